// Package outside is a module of someone else's that plugs schedulers (one
// of each kind) and an executor of its own into primetime, as its
// documentation says a user can; the module's tests run the conformance
// suite on them and compare them with compare.Run.
package outside

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/strategy"
)

// Queue is an executor that hands tasks to n worker goroutines through a
// buffered channel, as one that sends tasks to a queue elsewhere would.
type Queue struct{ N int }

func (q Queue) String() string { return fmt.Sprintf("queue:%d", q.N) }

func (q Queue) Start(env strategy.Env) (strategy.Runner, error) {
	r := &queueRunner{jobs: make(chan job, 1024)}
	for i := range q.N {
		// A thread per worker: Python mode's interpreter thread, and
		// the worker's lane on the timeline.
		th := env.WorkerThread(fmt.Sprintf("queue worker %d", i+1))
		r.wg.Go(func() {
			for j := range r.jobs {
				th.RunTask(j.ctx, j.task, j.payload, j.done)
			}
		})
	}
	return r, nil
}

type queueRunner struct {
	jobs chan job
	wg   sync.WaitGroup
}

type job struct {
	ctx     context.Context
	task    primetime.Task
	payload []byte
	done    func([]byte, error)
}

func (r *queueRunner) Submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	r.jobs <- job{ctx, t, payload, done}
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
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("queue size %q is not a whole number from 1 to 1024", arg)
		}
		return Queue{N: n}, nil
	})
}

// Loop is an event loop of this module's own: one goroutine handles, one
// at a time, what the connections' readers post to it, hands each task to
// the executor, and gets each answer back as one more event; in Python mode
// it is an interpreter thread that waits for events without the lock.
type Loop struct{}

func (Loop) String() string { return "myloop" }

func (Loop) ServeLoop(l strategy.Listener, lp strategy.LoopEnv) error {
	q := &queue{ready: make(chan struct{}, 1)}
	th := lp.LoopThread()
	var loop, readers sync.WaitGroup
	stopped := false
	loop.Go(func() {
		th.Run(func() {
			for !stopped {
				var events []func()
				th.Syscall(func() { events = q.take() })
				for _, handle := range events {
					th.LoopTurn()
					handle()
				}
			}
		})
	})
	defer func() {
		readers.Wait() // each waits for its answers: nothing is in flight
		q.post(func() { stopped = true })
		loop.Wait()
	}()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		readers.Go(func() {
			defer c.Close()
			type answer struct {
				b   []byte
				err error
			}
			answers := make(chan answer, 1)
			for {
				req, err := c.ReadRequest()
				if err != nil {
					return
				}
				q.post(func() {
					lp.Runner.Submit(th.Context(req.Context), req.Task, req.Payload, func(b []byte, err error) {
						q.post(func() { answers <- answer{b, err} })
					})
				})
				a := <-answers
				if c.WriteAnswer(a.b, a.err) != nil {
					return
				}
			}
		})
	}
}

// queue is the loop's events, posted from any goroutine.
type queue struct {
	mu     sync.Mutex
	events []func()
	ready  chan struct{}
}

func (q *queue) post(f func()) {
	q.mu.Lock()
	q.events = append(q.events, f)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take waits for events and returns them, oldest first.
func (q *queue) take() []func() {
	for {
		q.mu.Lock()
		if events := q.events; len(events) > 0 {
			q.events = nil
			q.mu.Unlock()
			return events
		}
		q.mu.Unlock()
		<-q.ready
	}
}
