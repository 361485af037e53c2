package strategy

import (
	"iter"
	"sync"

	"golang.org/x/sync/errgroup"
)

// pool serves at most n connections at once. Accepting goes on regardless:
// accepted connections wait in a queue, and one goroutine hands them, in
// the order they were accepted, to an errgroup limited to n goroutines, so
// that none is overtaken by a later one and a queued connection costs no
// goroutine.
type pool struct{ n int }

func (p pool) String() string { return partForm(poolName, p.n) }

func (p pool) describe() Part { return Part{Name: poolName, Size: p.n, MaxConns: p.n} }

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
