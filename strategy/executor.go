package strategy

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
)

// An Executor decides where a [Strategy] runs each request's task: [Inline],
// on [Goroutines] or in [Processes]. An Executor describes; each Serve of a Strategy starts
// its own workers and stops them before it returns.
type Executor interface {
	// String returns the executor's text form: "inline", "goroutines:4",
	// "procs:2".
	String() string
	// start starts the executor's workers; in Python mode, g is the
	// server's emulated interpreter lock, nil otherwise.
	start(g *gil.GIL) (runner, error)
}

// runner is a started executor.
type runner interface {
	// run runs t on payload and returns its answer. It returns early, with
	// ctx's error, only if ctx ends before the task has started; once a
	// task has started, run waits for it to return.
	//
	// In Python mode, the interpreter thread that ctx carries, if any,
	// holds the lock; run releases it while it waits for another thread
	// or process, as a Python thread waiting on a future does.
	run(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error)
	// stop stops the workers and waits for them. No run may be in progress
	// or follow.
	stop()
}

// A PanicError is the error an executor returns for a task that panicked.
// The panic is recovered where the task ran, so that one bad request fails
// alone and the server goes on; the server logs Stack.
type PanicError struct {
	// Task is the name of the task that panicked.
	Task string
	// Value is the value the task panicked with.
	Value any
	// Stack is the panicking goroutine's stack trace.
	Stack []byte
}

// Error returns a one-line description of the panic.
func (e *PanicError) Error() string {
	return fmt.Sprintf("task %s panicked: %v", e.Task, e.Value)
}

// runTask runs t, turning a panic into a *PanicError.
func runTask(ctx context.Context, t primetime.Task, payload []byte) (answer []byte, err error) {
	if t == nil {
		return nil, ErrNoTask
	}
	defer func() {
		if v := recover(); v != nil {
			answer, err = nil, &PanicError{Task: t.Name(), Value: v, Stack: debug.Stack()}
		}
	}()
	return t.Run(ctx, payload)
}

// Inline returns the executor that runs each task on the goroutine that
// handles its request.
func Inline() Executor { return inline{} }

type inline struct{}

func (inline) String() string                 { return "inline" }
func (inline) start(*gil.GIL) (runner, error) { return inline{}, nil }
func (inline) stop()                          {}
func (inline) run(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error) {
	return runTask(ctx, t, payload)
}

// Goroutines returns the executor that runs tasks on a pool of n worker
// goroutines. A request whose task finds every worker busy waits for one to
// become free. Goroutines panics if n < 1.
func Goroutines(n int) Executor {
	if n < 1 {
		panic("strategy: Goroutines needs at least 1 worker")
	}
	return goroutines{n: n}
}

type goroutines struct{ n int }

func (g goroutines) String() string { return fmt.Sprintf("goroutines:%d", g.n) }

func (g goroutines) start(lock *gil.GIL) (runner, error) {
	p := &goroutinePool{jobs: make(chan *job)}
	p.wg.Add(g.n)
	for range g.n {
		// Workers are threads of the same interpreter: in Python
		// mode they share the server's lock.
		go p.work(lock.NewThread())
	}
	return p, nil
}

type job struct {
	ctx     context.Context
	task    primetime.Task
	payload []byte
	answer  []byte
	err     error
	done    chan struct{} // receives once the task has run
}

// jobs are reused, so that handing a task to a worker allocates nothing.
var jobs = sync.Pool{New: func() any { return &job{done: make(chan struct{}, 1)} }}

type goroutinePool struct {
	jobs chan *job
	wg   sync.WaitGroup
}

func (p *goroutinePool) work(th *gil.Thread) {
	defer p.wg.Done()
	for j := range p.jobs {
		th.Take()
		j.answer, j.err = runTask(gil.WithThread(j.ctx, th), j.task, j.payload)
		th.Drop()
		j.done <- struct{}{}
	}
}

func (p *goroutinePool) run(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error) {
	defer gil.FromContext(ctx).Release()()
	j := jobs.Get().(*job)
	j.ctx, j.task, j.payload = ctx, t, payload
	defer func() {
		*j = job{done: j.done}
		jobs.Put(j)
	}()
	select {
	case p.jobs <- j:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	<-j.done
	return j.answer, j.err
}

func (p *goroutinePool) stop() {
	close(p.jobs)
	p.wg.Wait()
}
