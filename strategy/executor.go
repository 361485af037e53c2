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
	// submit starts t on payload and returns without waiting for it, as
	// an event loop needs; done is called once with the answer, on any
	// goroutine, perhaps before submit returns. payload must stay valid
	// until then.
	submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error))
	// stop stops the workers and waits for them. No run or submit may be
	// in progress or follow.
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
func (inline) submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
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

func (g goroutines) start(lock *gil.GIL) (runner, error) {
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
		if err := j.ctx.Err(); err != nil {
			j.err = err // it ended while the job waited
		} else {
			th.Take()
			j.answer, j.err = runTask(gil.WithThread(j.ctx, th), j.task, j.payload)
			th.Drop()
		}
		if cb := j.callback; cb != nil {
			answer, err := j.answer, j.err
			j.recycle()
			cb(answer, err)
			continue
		}
		j.done <- struct{}{}
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

func (p *goroutinePool) submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	if err := ctx.Err(); err != nil {
		done(nil, err)
		return
	}
	j := newJob(ctx, t, payload)
	j.callback = done
	p.enqueue(j)
}

func (p *goroutinePool) stop() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.ready.Broadcast()
	p.wg.Wait()
}
