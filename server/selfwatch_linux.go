package server

import (
	"sync/atomic"
	"syscall"
	"time"

	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/policy"
	"github.com/primetime-lab/primetime/internal/reactor"
)

// A selfWatch lets a goroutine conn's task look at its own connection at
// its checkpoints, as the loop's tasks do: once the request has run the
// watch delay, and no more often than that, a poll of the socket. The
// watchdog's background read does the same from another goroutine, but
// with many CPU-bound tasks runnable that goroutine waits its turn in Go's
// scheduler for seconds; the task itself is running.
type selfWatch struct {
	running gil.Running
	raw     syscall.RawConn
	next    atomic.Int64  // the server's clock, ms, of the next look
	calls   atomic.Uint32 // checkpoints, of which every policy.ClockEvery-th reads the time
}

// watchSelf makes the context of c's tasks carry c's watch, if its
// connection has a socket to look at.
func (c *conn) watchSelf() {
	raw, err := rawConn(c.nc)
	if err != nil {
		return
	}
	c.self = &selfWatch{raw: raw}
	c.self.running.Watch = c.look
	c.self.running.Lane = c.lane
	c.taskCtx = gil.WithRunning(c.ctx, &c.self.running)
}

// look is the watch: it ends the connection's context if the client has
// left.
func (c *conn) look() {
	mark := c.mark.Load()
	if mark == ended || mark&phaseMask < watchable || c.self.calls.Add(1)%policy.ClockEvery != 0 {
		return
	}
	// The time itself, not the watchdog's clock: with many tasks
	// runnable, the watchdog waits its turn too.
	now := int64(time.Since(c.s.epoch) / time.Millisecond)
	tick := int64(policy.WatchDelay / time.Millisecond)
	if now < mark>>phaseBits+tick || now < c.self.next.Load() {
		return
	}
	c.self.next.Store(now + tick)
	left := false
	c.self.raw.Control(func(fd uintptr) { left = reactor.PeerLeft(int(fd)) })
	if left {
		c.clientLeft()
	}
}
