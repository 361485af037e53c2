package strategy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/internal/worker"
)

// A Remote is what an executor whose tasks run in other processes (worker
// processes, other machines) does for Python mode and the timeline, as the
// process pool of [Processes] does: it charges the hops of CPython's pool
// that carry each task in and its answer out, records the tasks that wait
// for a worker and each worker's tasks on a lane of its own, and turns a
// worker's failures into the errors the task would have returned here.
// Make one per Start with [Env.Remote]; its methods are safe for
// concurrent use, and those of a nil *Remote only call what they are given.
type Remote struct {
	// In Python mode, the interpreter threads of CPython's pool that carry
	// each task in (the feeder) and its answer out (the manager), each
	// spending the pool's hop with the lock held.
	feeder, manager hopThread

	// With a timeline recorded: the queue's lane, with how many tasks wait
	// for a worker, and a lane per worker.
	rec       *timeline.Recorder
	queueLane *timeline.Lane
	waiting   atomic.Int32
	mu        sync.Mutex
	lanes     map[RemoteWorker]*timeline.Lane
}

// A RemoteWorker names a worker process of a [Remote]: its pid, and the
// host it runs on, "" for this one.
type RemoteWorker struct {
	Pid  int
	Host string
}

// Remote returns the Remote of an executor called name on the timeline, as
// in "process pool".
func (env Env) Remote(name string) *Remote {
	r := &Remote{rec: env.Recorder}
	if env.Recorder != nil {
		r.queueLane = env.Recorder.Lane(name+" queue", "queue")
		r.lanes = map[RemoteWorker]*timeline.Lane{}
	}
	if lock := env.Python.Lock(); lock != nil {
		hop := env.Python.Costs().PoolHop
		r.feeder = hopThread{th: lock.NewThread(gil.Feeder), hop: hop}
		r.manager = hopThread{th: lock.NewThread(gil.Manager), hop: hop}
	}
	return r
}

// Wait calls wait, which waits for a free worker for the task of ctx that
// runs on payload, and records the wait: the queue's depth meanwhile, and
// a span on the lane of the request's connection or loop.
func (r *Remote) Wait(ctx context.Context, payload []byte, wait func() error) error {
	if r == nil || r.queueLane == nil {
		return wait()
	}
	lane := gil.CallerLane(ctx)
	start := lane.Now()
	r.queueLane.Depth(int(r.waiting.Add(1)))
	err := wait()
	r.queueLane.Depth(int(r.waiting.Add(-1)))
	lane.Span(timeline.Queued, start, payload)
	return err
}

// Call makes the round trip of the task called task on payload: it charges
// the feeder's hop, calls call, which sends the task to a worker and waits
// for its answer, records the trip on the lane of the worker that call says
// ran it (none for a zero RemoteWorker), and charges the manager's hop. A
// *worker failure that call returns (one a worker reported: a panic, a
// refused request, a cancellation) becomes the error the task would have
// returned in this process: a [*PanicError], or one that wraps
// [primetime.ErrBadRequest] or [context.Canceled].
func (r *Remote) Call(task string, payload []byte, call func() ([]byte, RemoteWorker, error)) ([]byte, error) {
	if r == nil {
		answer, _, err := call()
		return answer, localError(task, err)
	}
	r.feeder.spend()
	var start int64
	if r.rec != nil {
		start = r.rec.Now()
	}
	answer, w, err := call()
	if w != (RemoteWorker{}) {
		r.laneOf(w).Span(timeline.Task, start, payload)
	}
	r.manager.spend()
	return answer, localError(task, err)
}

// laneOf returns w's lane, or nil if no timeline is recorded.
func (r *Remote) laneOf(w RemoteWorker) *timeline.Lane {
	if r.rec == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.lanes[w]
	if !ok {
		name := fmt.Sprintf("worker %d", w.Pid)
		if w.Host != "" {
			name += " on " + w.Host
		}
		l = r.rec.ProcessLane(name, "worker process", w.Pid)
		r.lanes[w] = l
	}
	return l
}

// A hopThread is an interpreter thread that one goroutine at a time runs.
type hopThread struct {
	mu  sync.Mutex
	th  *gil.Thread
	hop time.Duration
}

// spend takes the lock, spends the hop and drops it; nothing in Go mode.
func (h *hopThread) spend() {
	if h.th == nil || h.hop <= 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.th.Run(func() { h.th.Spend(h.hop) })
}

// localError turns a worker's report of a task's error into the error the
// task would have returned in this process, as far as callers can tell:
// panics become *PanicError, refusals wrap primetime.ErrBadRequest.
func localError(task string, err error) error {
	var re *worker.RemoteError
	if !errors.As(err, &re) {
		return err
	}
	switch re.Code {
	case worker.CodePanic:
		return &PanicError{Task: task, Value: re.Msg, Stack: re.Stack}
	case worker.CodeBadRequest:
		return &remoteError{msg: re.Msg, is: primetime.ErrBadRequest}
	case worker.CodeCanceled:
		return &remoteError{msg: re.Msg, is: context.Canceled}
	}
	return errors.New(re.Msg)
}

// remoteError is a worker's error message that still matches, with
// errors.Is, the sentinel error it was made from.
type remoteError struct {
	msg string
	is  error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.is }
