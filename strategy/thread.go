package strategy

import (
	"context"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
)

// A Thread is an interpreter thread of Python mode, for a goroutine of a
// scheduler or an executor written elsewhere: a loop of a [LoopScheduler],
// a worker of an [Executor]. It takes and drops the interpreter's lock in
// the steps this package's own loops and workers take, named after what
// CPython does there. In Go mode a Thread is nil, and its methods just run
// what they are given. A Thread must be used by one goroutine at a time.
type Thread struct {
	th    *gil.Thread
	costs PythonCosts
}

// LoopThread returns a new interpreter thread for an event loop, or nil in
// Go mode.
func (env Env) LoopThread() *Thread { return env.newThread(gil.Loop) }

// WorkerThread returns a new interpreter thread for an executor's worker,
// or nil in Go mode.
func (env Env) WorkerThread() *Thread { return env.newThread(gil.Worker) }

func (env Env) newThread(role gil.Role) *Thread {
	if env.Python == nil {
		return nil
	}
	return &Thread{th: env.Python.lock().NewThread(role), costs: env.Python.costs}
}

// gil returns t's thread of the lock, nil in Go mode.
func (t *Thread) gil() *gil.Thread {
	if t == nil {
		return nil
	}
	return t.th
}

// Run runs f as Python code: holding the lock, which the checkpoints of the
// tasks that f runs may yield to other threads, and which f's blocking calls
// release ([Thread.Syscall]). A loop runs its whole life in one Run.
func (t *Thread) Run(f func()) { t.gil().Run(f) }

// Syscall runs f outside the lock, as CPython releases it around a system
// call or a wait for another thread: a loop waits for events in one, and a
// worker calls back a loop's done in one.
func (t *Thread) Syscall(f func()) { t.gil().Syscall(f) }

// LoopTurn charges, in Python mode, what a turn of asyncio's machinery costs
// for one step of a request (the request read, or its task's answer back
// from an executor): its select releases the lock and takes it back, and its
// futures and callbacks spend [PythonCosts].LoopRequest with the lock held.
// Call it inside Run.
func (t *Thread) LoopTurn() {
	if t != nil {
		t.th.LoopTurn(t.costs.LoopRequest)
	}
}

// Context returns ctx carrying t, so that a task run under it on t's
// goroutine, as the inline executor runs one inside Submit, checkpoints t.
// Pass it only to what runs on t's goroutine: an executor runs its tasks on
// threads of its own.
func (t *Thread) Context(ctx context.Context) context.Context {
	return gil.WithThread(ctx, t.gil())
}

// RunTask is one task of a worker: it runs task on payload as Python code,
// turning a panic into a [*PanicError], and calls done with the answer, as
// a thread pool's worker sets a future that wakes an event loop: outside the
// lock, which it takes back once done has returned. t must not hold the
// lock.
func (t *Thread) RunTask(ctx context.Context, task primetime.Task, payload []byte, done func([]byte, error)) {
	th := t.gil()
	th.Serving(payload)
	th.Run(func() {
		answer, err := runTask(gil.WithThread(ctx, th), task, payload)
		th.Syscall(func() { done(answer, err) })
	})
}

// Run runs t on payload on the calling goroutine, as a new thread of the
// interpreter in Python mode (it holds the lock, and t's checkpoints yield
// it), and turns a panic of t into a [*PanicError]: what an executor's
// worker calls to run a task in this process when it has no [Thread] of its
// own.
func (env Env) Run(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error) {
	th := env.Python.lock().NewThread(gil.Worker)
	var answer []byte
	var err error
	th.Run(func() { answer, err = runTask(gil.WithThread(ctx, th), t, payload) })
	return answer, err
}
