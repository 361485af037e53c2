package strategy

import (
	"fmt"
	"iter"
	"sync"

	"golang.org/x/sync/errgroup"
)

// A Scheduler is the first axis of a strategy: it decides which goroutine
// serves each connection. Serial, PerConn and Pool are schedulers of this
// package; a scheduler written elsewhere becomes a Strategy with [New], and
// by name with [RegisterScheduler].
type Scheduler interface {
	// Schedule accepts connections from l until Accept returns an error,
	// serves each with h.ServeConn on a goroutine of its choosing, waits
	// for every one of them to return, and returns the error from Accept.
	Schedule(l Listener, h Handler) error
	// String returns the scheduler's text form, as [Parse] reads it.
	String() string
}

// A Handler is what a strategy gives its [Scheduler]: it serves a
// connection, running each request's task with the strategy's executor.
type Handler interface {
	// ServeConn answers c's requests in order on the calling goroutine,
	// until c has no more, and then closes c. In Python mode the calling
	// goroutine is an interpreter thread for the while: it holds the lock
	// from the moment a request has been read until its answer is ready,
	// and not while it reads or writes, as a Python thread releases the
	// lock in recv and send.
	ServeConn(c Conn)
}

// serial serves one connection at a time on the calling goroutine; the
// next connection is accepted only when the current one is done.
type serial struct{}

func (serial) String() string { return "serial" }

func (serial) Schedule(l Listener, h Handler) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		h.ServeConn(c)
	}
}

// perConn serves every connection on a goroutine of its own.
type perConn struct{}

func (perConn) String() string { return "perconn" }

func (perConn) Schedule(l Listener, h Handler) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		wg.Go(func() { h.ServeConn(c) })
	}
}

// pool serves at most n connections at once. Accepting goes on regardless:
// accepted connections wait in a queue, and one goroutine hands them, in
// the order they were accepted, to an errgroup limited to n goroutines, so
// that none is overtaken by a later one and a queued connection costs no
// goroutine.
type pool struct{ n int }

func (p pool) String() string { return fmt.Sprintf("pool:%d", p.n) }

func (p pool) Schedule(l Listener, h Handler) error {
	q := connQueue{}
	q.ready.L = &q.mu
	var dispatcher sync.WaitGroup
	dispatcher.Go(func() {
		var servers errgroup.Group
		servers.SetLimit(p.n)
		for c := range q.all() {
			// Go waits for a place, in the order of the queue.
			servers.Go(func() error { h.ServeConn(c); return nil })
		}
		servers.Wait()
	})
	defer func() {
		// The queued connections are still served: each finds that
		// it has no more requests, and closes.
		q.close()
		dispatcher.Wait()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		q.push(c)
	}
}

// connQueue is a first-in, first-out queue of accepted connections.
type connQueue struct {
	mu     sync.Mutex
	ready  sync.Cond
	conns  []Conn
	closed bool
}

func (q *connQueue) push(c Conn) {
	q.mu.Lock()
	q.conns = append(q.conns, c)
	q.mu.Unlock()
	q.ready.Signal()
}

func (q *connQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.ready.Signal()
}

// all yields the queued connections, oldest first, until the queue is
// closed and empty.
func (q *connQueue) all() iter.Seq[Conn] {
	return func(yield func(Conn) bool) {
		for {
			q.mu.Lock()
			for len(q.conns) == 0 && !q.closed {
				q.ready.Wait()
			}
			if len(q.conns) == 0 {
				q.mu.Unlock()
				return
			}
			c := q.conns[0]
			q.conns[0] = nil
			q.conns = q.conns[1:]
			q.mu.Unlock()
			if !yield(c) {
				return
			}
		}
	}
}
