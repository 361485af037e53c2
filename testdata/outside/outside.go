// Package outside is a module of someone else's that plugs a scheduler and
// an executor of its own into primetime, as its documentation says a user
// can; the module's tests compare them with loadtest.Compare.
package outside

import (
	"context"
	"fmt"
	"sync"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/strategy"
)

// Queue is an executor that hands tasks to n worker goroutines through a
// buffered channel, as one that sends tasks to a queue elsewhere would.
type Queue struct{ N int }

func (q Queue) String() string { return fmt.Sprintf("queue:%d", q.N) }

func (q Queue) Start(env strategy.Env) (strategy.Runner, error) {
	r := &queueRunner{jobs: make(chan func(), 1024)}
	for range q.N {
		r.wg.Go(func() {
			for job := range r.jobs {
				job()
			}
		})
	}
	r.env = env
	return r, nil
}

type queueRunner struct {
	env  strategy.Env
	jobs chan func()
	wg   sync.WaitGroup
}

func (r *queueRunner) Submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	r.jobs <- func() { done(r.env.Run(ctx, t, payload)) }
}

func (r *queueRunner) Stop() {
	close(r.jobs)
	r.wg.Wait()
}

// Newest is a scheduler that serves at most N connections at once, the
// newest waiting one first.
type Newest struct{ N int }

func (s Newest) String() string { return fmt.Sprintf("newest:%d", s.N) }

func (s Newest) Schedule(l strategy.Listener, h strategy.Handler) error {
	var (
		mu      sync.Mutex
		free    = s.N
		waiting []strategy.Conn
		wg      sync.WaitGroup
	)
	serve := func(c strategy.Conn) {
		for c != nil {
			h.ServeConn(c)
			mu.Lock()
			c = nil
			if n := len(waiting); n > 0 {
				c, waiting = waiting[n-1], waiting[:n-1]
			} else {
				free++
			}
			mu.Unlock()
		}
	}
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		mu.Lock()
		if free > 0 {
			free--
			wg.Go(func() { serve(c) })
		} else {
			waiting = append(waiting, c)
		}
		mu.Unlock()
	}
}

func init() {
	strategy.RegisterExecutor("queue:N", func(arg string) (strategy.Executor, error) {
		n, err := strategy.Size("queue", arg)
		return Queue{N: n}, err
	})
}
