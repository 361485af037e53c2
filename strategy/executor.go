package strategy

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/timeline"
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
	// the server runs, and whether it is in Python mode: worker goroutines
	// run their tasks with a [Thread] of env.WorkerThread, and an executor
	// whose tasks run in other processes makes their trips through a
	// [Remote] of env.Remote.
	Start(env Env) (Runner, error)
	// String returns the executor's text form, as [Parse] reads it:
	// "goroutines:4", "procs:2".
	String() string
}

// A Runner is a started [Executor].
type Runner interface {
	// Submit starts t on payload and returns; done is called exactly once
	// with t's answer or error, on any goroutine, perhaps before Submit
	// returns. payload stays valid until then. A task whose ctx ends
	// before it starts may be answered with ctx's error without running.
	// The tasks a strategy submits recover their own panics, as a
	// [*PanicError].
	//
	// A Runner may run the task on the calling goroutine before Submit
	// returns, as the inline executor's does: in Python mode ctx then
	// carries the caller's interpreter thread, which the task's
	// checkpoints yield. A Runner that runs tasks on goroutines of its own
	// runs them on threads of its own ([Env.WorkerThread]).
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
	// or process, as a Python thread waiting on a future does (a
	// gil.Thread.Syscall).
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

// Submit hands the task over without the caller's interpreter thread:
// an executor from elsewhere may run it on any goroutine, where
// checkpointing the caller's thread would corrupt it.
func (w waitingRunner) Submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	if t == nil {
		done(nil, errNoTask)
		return
	}
	w.Runner.Submit(gil.WithoutThread(ctx), recovering{t}, payload, done)
}

func (w waitingRunner) run(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error) {
	type answer struct {
		b   []byte
		err error
	}
	c := make(chan answer, 1)
	var a answer
	gil.FromContext(ctx).Syscall(func() {
		w.Submit(ctx, t, payload, func(b []byte, err error) { c <- answer{b, err} })
		a = <-c
	})
	return a.b, a.err
}

// recovering is a task whose panics are recovered as a *PanicError, for
// executors from elsewhere.
type recovering struct{ primetime.Task }

func (r recovering) Run(ctx context.Context, payload []byte) ([]byte, error) {
	return recovered(ctx, r.Task, payload)
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

// runTask runs t, turning a panic into a *PanicError, and records it on
// the lane of the goroutine that runs it. A task that releases the lock
// (a primetime.GILReleaser) runs without it, as a system call does.
func runTask(ctx context.Context, t primetime.Task, payload []byte) (answer []byte, err error) {
	if releasesGIL(t) {
		if th := gil.FromContext(ctx); th.Held() {
			th.Syscall(func() { answer, err = runTask(gil.Released(ctx), t, payload) })
			return answer, err
		}
	}
	if lane := gil.TaskLane(ctx); lane != nil {
		start := lane.Now()
		defer lane.Span(timeline.Task, start, payload)
	}
	return recovered(ctx, t, payload)
}

// recovered runs t, turning a panic into a *PanicError.
func recovered(ctx context.Context, t primetime.Task, payload []byte) (answer []byte, err error) {
	if t == nil {
		return nil, errNoTask
	}
	defer func() {
		if v := recover(); v != nil {
			answer, err = nil, &PanicError{Task: t.Name(), Value: v, Stack: debug.Stack()}
		}
	}()
	return t.Run(ctx, payload)
}

// releasesGIL reports whether t, or the task a recovering wraps, releases
// the lock.
func releasesGIL(t primetime.Task) bool {
	if r, ok := t.(recovering); ok {
		t = r.Task
	}
	_, ok := t.(primetime.GILReleaser)
	return ok
}
