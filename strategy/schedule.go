package strategy

import (
	"sync"

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

// servePool serves at most n connections at once, on n goroutines that
// take accepted connections from a queue in the order they were accepted.
// Accepting goes on regardless, so connections beyond the n wait, accepted,
// in the queue; none is overtaken by a later one.
func servePool(l Listener, run runner, lock *gil.GIL, n int) error {
	var (
		mu     sync.Mutex
		ready  = sync.NewCond(&mu)
		queue  []Conn
		closed bool
	)
	var servers sync.WaitGroup
	for range n {
		servers.Go(func() {
			for {
				mu.Lock()
				for len(queue) == 0 && !closed {
					ready.Wait()
				}
				if len(queue) == 0 {
					mu.Unlock()
					return
				}
				c := queue[0]
				queue[0] = nil
				queue = queue[1:]
				mu.Unlock()
				serveConn(c, run, lock.NewThread())
			}
		})
	}
	defer func() {
		// The queued connections are still served: each finds that
		// it has no more requests, and closes.
		mu.Lock()
		closed = true
		ready.Broadcast()
		mu.Unlock()
		servers.Wait()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		mu.Lock()
		queue = append(queue, c)
		ready.Signal()
		mu.Unlock()
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
