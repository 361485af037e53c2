// Package outside is a module of someone else's that plugs a scheduler and
// an executor of its own into primetime, as its documentation says a user
// can; the module's tests compare them with compare.Run.
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

// Workers is a scheduler that serves connections on N goroutines, each
// taking the next accepted connection when it is free; further clients
// wait to be accepted.
type Workers struct{ N int }

func (s Workers) String() string { return fmt.Sprintf("workers:%d", s.N) }

func (s Workers) Schedule(l strategy.Listener, h strategy.Handler) error {
	conns := make(chan strategy.Conn)
	var wg sync.WaitGroup
	for range s.N {
		wg.Go(func() {
			for c := range conns {
				h.ServeConn(c)
			}
		})
	}
	defer wg.Wait()
	defer close(conns)
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		conns <- c
	}
}

func init() {
	strategy.RegisterExecutor("queue:N", func(arg string) (strategy.Executor, error) {
		n, err := strategy.Size("queue", arg)
		return Queue{N: n}, err
	})
}
