package strategy

import (
	"context"
	"sync"

	"golang.org/x/sync/semaphore"

	"github.com/primetime-lab/primetime/internal/gil"
)

// serveSerial serves one connection at a time on the calling goroutine; the
// next connection is accepted only when the current one is done.
func serveSerial(l Listener, run runner, lock *gil.GIL) error {
	th := lock.NewThread()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		serveConn(c, run, th)
	}
}

// servePerConn serves every connection on a goroutine of its own.
func servePerConn(l Listener, run runner, lock *gil.GIL) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		wg.Go(func() { serveConn(c, run, lock.NewThread()) })
	}
}

// servePool serves at most n connections at once. Accepting goes on
// regardless; a connection beyond the n waits in the semaphore's queue,
// which is first come, first served, so no waiting connection starves.
func servePool(l Listener, run runner, lock *gil.GIL, n int) error {
	sem := semaphore.NewWeighted(int64(n))
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		wg.Go(func() {
			// Acquire cannot fail: its context is never done. A queued
			// connection of a closing server gets its turn once the
			// connections ahead of it have closed, and then finds that
			// it has no more requests.
			_ = sem.Acquire(context.Background(), 1)
			defer sem.Release(1)
			serveConn(c, run, lock.NewThread())
		})
	}
}

// loopJob is a request on its way to the loop, with where its answer goes.
type loopJob struct {
	req   Request
	reply chan<- loopAnswer
}

// loopAnswer is an answer on its way from the loop to its connection.
type loopAnswer struct {
	answer []byte
	err    error
	reply  chan<- loopAnswer
}

// serveLoop reads every connection on a goroutine of its own and handles
// every request on one loop goroutine. With the inline executor the loop runs
// each task itself; with any other it hands the task over and handles other
// requests until the answer comes back to it.
func serveLoop(l Listener, run runner, lock *gil.GIL) error {
	work := make(chan loopJob)
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		runLoop(work, run, lock.NewThread())
	}()
	var readers sync.WaitGroup
	defer func() {
		// Every reader waits for its answers, so once the readers are
		// gone no task is in flight and the loop can stop.
		readers.Wait()
		close(work)
		<-loopDone
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		readers.Go(func() { readForLoop(c, work) })
	}
}

// readForLoop reads c's requests, sends each to the loop and writes the
// answer the loop sends back.
func readForLoop(c Conn, work chan<- loopJob) {
	defer c.Close()
	reply := make(chan loopAnswer, 1)
	for {
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		work <- loopJob{req: req, reply: reply}
		a := <-reply
		if c.WriteAnswer(a.answer, a.err) != nil {
			return
		}
	}
}

// runLoop is the loop goroutine. It returns when work is closed and no
// offloaded task is still out.
//
// In Python mode it is the interpreter thread that runs the event loop: it
// holds the lock except while it waits for events, as asyncio releases it
// in select, and it waits only when no event is ready.
func runLoop(work <-chan loopJob, run runner, th *gil.Thread) {
	_, onLoop := run.(inline)
	done := make(chan loopAnswer)
	out := 0
	th.Take()
	defer th.Drop()
	for work != nil || out > 0 {
		var j loopJob
		var a loopAnswer
		gotJob, gotAnswer, ok := false, false, true
		select {
		case j, ok = <-work:
			gotJob = true
		case a = <-done:
			gotAnswer = true
		default:
			back := th.Release()
			select {
			case j, ok = <-work:
				gotJob = true
			case a = <-done:
				gotAnswer = true
			}
			back()
		}
		switch {
		case gotJob && !ok:
			work = nil
		case gotJob && onLoop:
			answer, err := run.run(gil.WithThread(j.req.Context, th), j.req.Task, j.req.Payload)
			j.reply <- loopAnswer{answer: answer, err: err}
		case gotJob:
			out++
			go func() {
				// This goroutine only waits for the executor; it
				// runs no Python code and holds no lock.
				answer, err := run.run(j.req.Context, j.req.Task, j.req.Payload)
				done <- loopAnswer{answer: answer, err: err, reply: j.reply}
			}()
		case gotAnswer:
			out--
			a.reply <- a
		}
	}
}
