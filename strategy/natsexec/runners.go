package natsexec

import (
	"sync"
	"sync/atomic"
)

// runners runs functions each on a goroutine of its own, as go f() does,
// but hands a function to an idle goroutine when there is one: a task's
// round trip goes deep enough (a select of many cases, the NATS client's
// publish) that a new goroutine grows its stack twice, copying it each
// time, which a goroutine kept from an earlier task has done already.
// At most maxIdle goroutines wait for work; the others end. stop ends the
// idle ones and waits for every one.
type runners struct {
	maxIdle int
	work    chan func() // unbuffered: a send succeeds only to an idle goroutine
	quit    chan struct{}
	stopped sync.Once
	idle    atomic.Int32
	wg      sync.WaitGroup
}

func newRunners(maxIdle int) *runners {
	return &runners{maxIdle: maxIdle, work: make(chan func()), quit: make(chan struct{})}
}

// run runs f on an idle goroutine, or on a new one. It must not be called
// once stop has been.
func (r *runners) run(f func()) {
	select {
	case r.work <- f:
	default:
		r.wg.Go(func() { r.loop(f) })
	}
}

// loop runs f, then whatever is handed to it, until there are enough idle
// goroutines without it or stop is called.
func (r *runners) loop(f func()) {
	for {
		f()
		if r.idle.Add(1) > int32(r.maxIdle) {
			r.idle.Add(-1)
			return
		}
		select {
		case f = <-r.work:
			r.idle.Add(-1)
		case <-r.quit:
			r.idle.Add(-1)
			return
		}
	}
}

// stop waits for the functions under way, and ends every goroutine.
func (r *runners) stop() {
	r.stopped.Do(func() { close(r.quit) })
	r.wg.Wait()
}
