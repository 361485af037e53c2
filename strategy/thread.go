package strategy

import (
	"context"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
)

// A Thread is a goroutine of a scheduler or an executor, as Python mode and
// the timeline see it: a loop of a [LoopScheduler], a worker of an
// [Executor]. In Python mode it is an interpreter thread, which takes and
// drops the lock in the steps this package's own loops and workers take,
// named after what CPython does there; with a timeline recorded, a worker's
// tasks are spans on a lane of its own. Otherwise a Thread is nil, and its
// methods just run what they are given. A Thread must be used by one
// goroutine at a time.
type Thread struct {
	th      *gil.Thread
	costs   gil.Costs
	running *gil.Running // in Go mode with a timeline, the worker's lane
}

// LoopThread returns a new interpreter thread for an event loop, or nil in
// Go mode.
func (env Env) LoopThread() *Thread {
	if env.Python == nil {
		return nil
	}
	return &Thread{th: env.Python.Lock().NewThread(gil.Loop), costs: env.Python.Costs()}
}

// WorkerThread returns a new thread for a worker goroutine of an executor,
// whose tasks the timeline shows on a lane called name; nil in Go mode
// without a timeline. Run each task with [Thread.RunTask].
func (env Env) WorkerThread(name string) *Thread {
	lane := env.Recorder.Lane(name, "worker")
	if env.Python == nil {
		if lane == nil {
			return nil
		}
		return &Thread{running: &gil.Running{Lane: lane}}
	}
	t := &Thread{th: env.Python.Lock().NewThread(gil.Worker), costs: env.Python.Costs()}
	if lane != nil {
		t.th.SetLane(lane)
	}
	return t
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
// call or a wait for another thread: a loop waits for events in one.
func (t *Thread) Syscall(f func()) { t.gil().Syscall(f) }

// LoopTurn charges, in Python mode, what a turn of asyncio's machinery costs
// for one step of a request (the request read, or its task's answer back
// from an executor): its select releases the lock and takes it back, and its
// futures and callbacks spend server.PythonCosts.LoopRequest with the lock
// held. Call it inside Run.
func (t *Thread) LoopTurn() {
	if t != nil && t.th != nil {
		t.th.LoopTurn(t.costs.LoopRequest)
	}
}

// Context returns ctx carrying t, so that a task run under it on t's
// goroutine, as the inline executor runs one inside Submit, checkpoints t.
// Pass it only to what runs on t's goroutine.
func (t *Thread) Context(ctx context.Context) context.Context {
	if t != nil && t.th == nil {
		return gil.WithRunning(ctx, t.running)
	}
	return gil.WithThread(ctx, t.gil())
}

// RunTask is one task of a worker: it runs task on payload as Python code,
// turning a panic into a [*PanicError], records it on the worker's lane,
// and calls done with the answer, as a thread pool's worker sets a future
// that wakes an event loop: outside the lock, which it takes back once done
// has returned. t must not hold the lock. A task whose ctx has ended
// before it starts is answered with ctx's error without running.
func (t *Thread) RunTask(ctx context.Context, task primetime.Task, payload []byte, done func([]byte, error)) {
	th := t.gil()
	th.Serving(payload)
	th.Run(func() {
		var answer []byte
		err := ctx.Err()
		if err == nil {
			answer, err = runTask(t.Context(ctx), task, payload)
		}
		th.Syscall(func() { done(answer, err) })
	})
}

// Run runs t on payload on the calling goroutine, as a new thread of the
// interpreter in Python mode, and turns a panic of t into a [*PanicError]:
// for an executor that starts a goroutine per task. One whose goroutines
// serve many tasks gives each a [Env.WorkerThread] instead, which the
// timeline shows as a lane.
func (env Env) Run(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error) {
	th := env.Python.Lock().NewThread(gil.Worker)
	var answer []byte
	var err error
	th.Run(func() { answer, err = runTask(gil.WithThread(ctx, th), t, payload) })
	return answer, err
}
