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
