package strategy

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
)

// An Executor is the second axis of a strategy: where each request's task
// runs. [Inline], [Goroutines] and [Processes] are this package's; an
// executor written elsewhere (one that sends tasks to another machine, or
// to a queue) combines with any scheduler through [Offload] and [New], and
// by name through [RegisterExecutor].
//
// An Executor describes; each Serve of a strategy starts it, and stops what
// Start returned before Serve returns.
type Executor interface {
	// Start starts the executor's workers for one Serve. env says what
	// the server runs, and whether it is in Python mode: workers that run
	// tasks in this process run them with env.Run.
	Start(env Env) (Runner, error)
	// String returns the executor's text form, as [Parse] reads it:
	// "goroutines:4", "procs:2".
	String() string
}

// A Runner is a started [Executor].
type Runner interface {
	// Submit starts t on payload and returns without waiting for it;
	// done is called exactly once with t's answer or error, on any
	// goroutine, perhaps before Submit returns. payload stays valid until
	// then. A task whose ctx ends before it starts may be answered with
	// ctx's error without running. The tasks a strategy submits recover
	// their own panics, as a [*PanicError].
	Submit(ctx context.Context, t primetime.Task, payload []byte, done func(answer []byte, err error))
	// Stop stops the workers and waits for them. No Submit is in progress
	// or follows, and every task submitted has been answered.
	Stop()
}

// runner is a started executor as the schedulers use it: a Runner that
// can also run a task and wait for it.
type runner interface {
	Runner
	// run runs t on payload and returns its answer. It returns early, with
	// ctx's error, only if ctx ends before the task has started; once a
	// task has started, run waits for it to return.
	//
	// In Python mode, the interpreter thread that ctx carries, if any,
	// holds the lock; run releases it while it waits for another thread
	// or process, as a Python thread waiting on a future does.
	run(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error)
}

// asRunner returns r as a runner: this package's runners are; another's
// is waited for through Submit.
func asRunner(r Runner) runner {
	if run, ok := r.(runner); ok {
		return run
	}
	return waitingRunner{r}
}

// waitingRunner runs a task on an executor from elsewhere by submitting it
// and waiting for its answer.
type waitingRunner struct{ Runner }

func (w waitingRunner) Submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	w.Runner.Submit(ctx, recovering{t}, payload, done)
}

func (w waitingRunner) run(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error) {
	defer gil.FromContext(ctx).Release()()
	type answer struct {
		b   []byte
		err error
	}
	c := make(chan answer, 1)
	w.Submit(ctx, t, payload, func(b []byte, err error) { c <- answer{b, err} })
	a := <-c
	return a.b, a.err
}

// recovering is a task whose panics are recovered as a *PanicError, for
// executors from elsewhere.
type recovering struct{ primetime.Task }

func (r recovering) Run(ctx context.Context, payload []byte) ([]byte, error) {
	return runTask(ctx, r.Task, payload)
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

func (inline) String() string            { return "inline" }
func (inline) Start(Env) (Runner, error) { return inline{}, nil }
func (inline) Stop()                     {}
func (inline) run(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error) {
	return runTask(ctx, t, payload)
}
func (inline) Submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	done(runTask(ctx, t, payload))
}

// Goroutines returns the executor that runs tasks on a pool of n worker
// goroutines. A request whose task finds every worker busy waits for one to
// become free, first come, first served. Goroutines panics if n < 1.
func Goroutines(n int) Executor {
	if n < 1 {
		panic("strategy: Goroutines needs at least 1 worker")
	}
	return goroutines{n: n}
}

type goroutines struct{ n int }

func (g goroutines) String() string { return fmt.Sprintf("goroutines:%d", g.n) }

func (g goroutines) Start(env Env) (Runner, error) {
	lock := env.Python.lock()
	p := &goroutinePool{}
	p.ready.L = &p.mu
	for range g.n {
		// Workers are threads of the same interpreter: in Python
		// mode they share the server's lock.
		th := lock.NewThread()
		p.wg.Go(func() { p.work(th) })
	}
	return p, nil
}

// A job is a task waiting for, or run by, a worker goroutine.
type job struct {
	ctx     context.Context
	task    primetime.Task
	payload []byte
	answer  []byte
	err     error
	// Whoever waits for the job: run receives on done once the task has
	// run; submit's caller gets called back.
	done     chan struct{}
	callback func([]byte, error)
}

// jobs are reused, so that handing a task to a worker allocates nothing.
var jobs = sync.Pool{New: func() any { return &job{done: make(chan struct{}, 1)} }}

func newJob(ctx context.Context, t primetime.Task, payload []byte) *job {
	j := jobs.Get().(*job)
	j.ctx, j.task, j.payload = ctx, t, payload
	return j
}

func (j *job) recycle() {
	*j = job{done: j.done}
	jobs.Put(j)
}

// goroutinePool is a started Goroutines executor: its workers take jobs
// from one queue, oldest first.
type goroutinePool struct {
	mu     sync.Mutex
	ready  sync.Cond // signalled when a job is queued, or the pool stops
	queue  []*job    // queue[head:] wait, oldest first
	head   int
	closed bool
	wg     sync.WaitGroup
}

func (p *goroutinePool) work(th *gil.Thread) {
	for {
		p.mu.Lock()
		for p.head == len(p.queue) && !p.closed {
			p.ready.Wait()
		}
		if p.head == len(p.queue) {
			p.mu.Unlock()
			return
		}
		j := p.queue[p.head]
		p.queue[p.head] = nil
		p.head++
		if p.head == len(p.queue) || (p.head >= 64 && 2*p.head >= len(p.queue)) {
			// A queue that never empties would otherwise grow
			// without bound.
			n := copy(p.queue, p.queue[p.head:])
			clear(p.queue[n:])
			p.queue, p.head = p.queue[:n], 0
		}
		p.mu.Unlock()
		th.Take()
		if err := j.ctx.Err(); err != nil {
			j.err = err // it ended while the job waited
		} else {
			j.answer, j.err = runTask(gil.WithThread(j.ctx, th), j.task, j.payload)
		}
		if cb := j.callback; cb != nil {
			answer, err := j.answer, j.err
			j.recycle()
			// A Python worker wakes an event loop with a send on its
			// self-pipe, which releases the lock; it takes it back
			// before its queue's wait releases it again.
			th.Drop()
			cb(answer, err)
			th.Take()
			th.Drop()
			continue
		}
		// A Python thread waiting for the answer wakes while the worker
		// still holds the lock.
		j.done <- struct{}{}
		th.Drop()
	}
}

// enqueue queues j for the next free worker.
func (p *goroutinePool) enqueue(j *job) {
	p.mu.Lock()
	p.queue = append(p.queue, j)
	p.mu.Unlock()
	p.ready.Signal()
}

// withdraw takes j out of the queue, and reports whether it was still
// there: no worker has taken it.
func (p *goroutinePool) withdraw(j *job) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := p.head; i < len(p.queue); i++ {
		if p.queue[i] == j {
			copy(p.queue[i:], p.queue[i+1:])
			p.queue[len(p.queue)-1] = nil
			p.queue = p.queue[:len(p.queue)-1]
			return true
		}
	}
	return false
}

func (p *goroutinePool) run(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	defer gil.FromContext(ctx).Release()()
	j := newJob(ctx, t, payload)
	defer j.recycle()
	p.enqueue(j)
	select {
	case <-j.done:
	case <-ctx.Done():
		if p.withdraw(j) {
			return nil, ctx.Err()
		}
		<-j.done
	}
	return j.answer, j.err
}

func (p *goroutinePool) Submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	if err := ctx.Err(); err != nil {
		done(nil, err)
		return
	}
	j := newJob(ctx, t, payload)
	j.callback = done
	p.enqueue(j)
}

func (p *goroutinePool) Stop() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ready.Broadcast()
	p.wg.Wait()
}
