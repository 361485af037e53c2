package strategy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/internal/worker"
)

// Timing of worker processes.
const (
	// workerStartTimeout bounds the wait for a new worker's handshake.
	workerStartTimeout = 3 * time.Second
	// cancelGrace is how long a worker may take to stop a cancelled task
	// before it is killed and replaced.
	cancelGrace = time.Second
	// closeGrace is how long a worker may take to exit once its stdin is
	// closed at the end of Serve.
	closeGrace = 2 * time.Second
	// loadMemory is how long the pool counts as under load after a request
	// last had to wait for a worker; under load, workers are told that
	// their next request will come soon (see worker.Proc.Call).
	loadMemory = 10 * time.Millisecond
)

// Processes returns the executor that runs tasks in a pool of n worker
// processes, as Python's ProcessPoolExecutor does; n = 0 means one per CPU.
// Processes panics if n < 0.
//
// Worker processes are this program, started again: the program must call
// primetime.MaybeWorker first thing in main (and tests in TestMain), and the
// tasks it serves must be registered with primetime.Register in init
// functions. All n workers start when Serve starts, so a program that lacks
// the call fails at once with an error that says so; they stop when Serve
// returns.
//
// A worker runs one task at a time, as one Python interpreter thread would,
// with GOMAXPROCS=1.
//
// A task that is cancelled (its client went away, or the server is closing)
// is cancelled in its worker too; a worker that does not stop it within a
// second is killed. A worker that dies during a task (killed, crashed), or
// is killed twice in a row as it starts, fails only that request, with an
// error that starts "worker exited", and is replaced; the pool never stays
// broken.
func Processes(n int) Executor {
	if n < 0 {
		panic("strategy: Processes needs a non-negative number of workers")
	}
	return processes{n: n}
}

// ProcessPool returns the strategy that serves each connection on a
// goroutine of its own and runs every task in a pool of n worker processes
// (n = 0: one per CPU): PerConn offloaded to [Processes], the lecture's
// process pool. Its text form is "procpool:N".
func ProcessPool(n int) Strategy { return Offload(PerConn(), Processes(n)) }

type processes struct{ n int }

func (p processes) String() string { return partForm(ProcsName, p.n) }

func (p processes) describe() Part { return Part{Name: ProcsName, Size: p.n} }

func (p processes) size() int { return perCPU(p.n) }

// Start ignores the server's lock: each worker process is an interpreter of
// its own, with a lock of its own that its one task at a time never
// contends for. It checks that the workers know env.Task.
func (p processes) Start(env Env) (Runner, error) {
	n := p.size()
	pool := &procPool{
		free:    make(chan struct{}, n),
		opts:    worker.Options{StartTimeout: workerStartTimeout},
		hop:     env.Python.charges().PoolHop,
		metrics: env.Metrics,
		rec:     env.Recorder,
	}
	if env.Recorder != nil {
		pool.queueLane = env.Recorder.Lane("process pool queue", "queue")
		pool.lanes = map[int]*timeline.Lane{}
	}
	if lock := env.Python.lock(); lock != nil {
		pool.feeder.th, pool.manager.th = lock.NewThread(gil.Feeder), lock.NewThread(gil.Manager)
	}
	procs := make([]*worker.Proc, n)
	var g errgroup.Group
	for i := range procs {
		g.Go(func() (err error) {
			procs[i], err = pool.start(false)
			return err
		})
	}
	err := g.Wait()
	if err != nil {
		err = fmt.Errorf("strategy: starting worker processes: %w", err)
	} else if env.Task != nil && !procs[0].Has(env.Task.Name()) {
		err = unregistered(env.Task.Name())
	}
	for _, w := range procs {
		if err != nil && w != nil {
			pool.kill(w)
			continue
		}
		pool.put(w)
	}
	if err != nil {
		return nil, err
	}
	return pool, nil
}

// unregistered is the error of a task the worker processes do not know.
func unregistered(task string) error {
	return fmt.Errorf("strategy: task %q is not registered in the worker processes: register it with primetime.Register in an init function of the program", task)
}

// procPool is a started Processes executor. It hands out its idle workers
// last in, first out: the worker that answered last, whose threads are the
// least likely to be asleep, takes the next task, and a worker that a light
// load does not need stays asleep. idle holds one entry per free worker
// slot: a worker ready for a task, or nil for a slot whose worker could not
// be restarted and is started again on its next use; free holds a token
// for each entry, so that a request can wait for one or for its context.
type procPool struct {
	free     chan struct{}
	opts     worker.Options
	wg       sync.WaitGroup // submitted tasks and replacements under way
	lastWait atomic.Int64   // when a request last had to wait in get, in Unix ns

	mu   sync.Mutex
	idle []*worker.Proc

	// In Python mode, the interpreter threads of CPython's pool that carry
	// each task in (the feeder) and its answer out (the manager), each
	// spending hop with the lock held.
	feeder, manager hopThread
	hop             time.Duration

	metrics *Metrics // nil if nobody counts

	// With a timeline recorded: a lane per worker process, by pid, and
	// the queue's, with how many tasks wait for a worker.
	rec       *timeline.Recorder
	queueLane *timeline.Lane
	lanes     map[int]*timeline.Lane // under mu
	waiting   atomic.Int32
}

// laneOf returns w's lane, or nil if no timeline is recorded.
func (p *procPool) laneOf(w *worker.Proc) *timeline.Lane {
	if p.rec == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.lanes[w.Pid()]
	if !ok {
		l = p.rec.ProcessLane(fmt.Sprintf("worker %d", w.Pid()), "worker process", w.Pid())
		p.lanes[w.Pid()] = l
	}
	return l
}

// A hopThread is an interpreter thread that one goroutine at a time runs.
type hopThread struct {
	mu sync.Mutex
	th *gil.Thread
}

// spend takes the lock, spends d and drops it; nothing in Go mode.
func (h *hopThread) spend(d time.Duration) {
	if h.th == nil || d <= 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.th.Run(func() { h.th.Spend(d) })
}

// get takes the idle worker that was returned last, or nil for a slot
// whose worker must be started, waiting for one until ctx ends.
func (p *procPool) get(ctx context.Context) (*worker.Proc, error) {
	select {
	case <-p.free:
	default:
		p.lastWait.Store(time.Now().UnixNano())
		select {
		case <-p.free:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.idle[len(p.idle)-1]
	p.idle = p.idle[:len(p.idle)-1]
	return w, nil
}

// put returns a worker, or nil for a slot to start again, to the pool.
func (p *procPool) put(w *worker.Proc) {
	p.mu.Lock()
	p.idle = append(p.idle, w)
	p.mu.Unlock()
	p.free <- struct{}{}
}

// run runs the task as a thread waiting for a future does: the thread that
// ctx carries, if any, waits without the lock.
func (p *procPool) run(ctx context.Context, t primetime.Task, payload []byte) (answer []byte, err error) {
	gil.FromContext(ctx).Syscall(func() { answer, err = p.call(ctx, t, payload) })
	return answer, err
}

// call runs the task in a worker process and waits for its answer.
func (p *procPool) call(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error) {
	if t == nil {
		return nil, ErrNoTask
	}
	var waitLane *timeline.Lane // the caller's, for the task's wait in the queue
	var waitStart int64
	if p.queueLane != nil {
		waitLane = gil.LaneOf(ctx)
		waitStart = waitLane.Now()
		p.queueLane.Depth(int(p.waiting.Add(1)))
	}
	w, err := p.get(ctx)
	if p.queueLane != nil {
		p.queueLane.Depth(int(p.waiting.Add(-1)))
		waitLane.Span(timeline.Queued, waitStart, payload)
	}
	if err != nil {
		return nil, err
	}
	if w == nil {
		if w, err = p.startFor(); err != nil {
			return nil, err
		}
	}
	name := t.Name()
	if !w.Has(name) {
		p.put(w)
		return nil, unregistered(name)
	}
	queued := time.Duration(time.Now().UnixNano()-p.lastWait.Load()) < loadMemory
	p.feeder.spend(p.hop)
	lane := p.laneOf(w)
	start := lane.Now()
	answer, usable, err := w.Call(ctx, name, payload, cancelGrace, queued)
	lane.Span(timeline.Task, start, payload)
	p.manager.spend(p.hop)
	if errors.Is(err, worker.ErrNotDelivered) {
		// The worker died while idle: the task never ran, so run it on
		// a new worker in its place rather than fail the request.
		p.kill(w)
		if w, err = p.startFor(); err != nil {
			return nil, err
		}
		answer, usable, err = w.Call(ctx, name, payload, cancelGrace, queued)
	}
	if usable {
		p.put(w)
	} else {
		p.replace(w)
	}
	return answer, localError(name, err)
}

// Submit runs the task on a goroutine of its own, which waits for the
// worker process; Stop waits for it. That goroutine is no thread of the
// caller's: ctx's thread, if any, is left alone.
func (p *procPool) Submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	p.wg.Go(func() { done(p.call(ctx, t, payload)) })
}

// start starts a worker, in place of one that ended if restart is set. A
// worker killed from outside before its handshake is started once more:
// no task was lost with it.
func (p *procPool) start(restart bool) (*worker.Proc, error) {
	w, err := worker.Start(p.opts)
	if errors.Is(err, worker.ErrExited) {
		w, err = worker.Start(p.opts)
	}
	if err == nil {
		p.metrics.started(restart)
	}
	return w, err
}

// startFor starts a worker for a request whose slot had none, or whose
// worker died before the request reached it. A worker lost as it started
// fails the request as a worker lost during it would ("worker exited");
// anything else says that no worker could start.
func (p *procPool) startFor() (*worker.Proc, error) {
	w, err := p.start(true)
	if err != nil {
		p.put(nil)
		if !errors.Is(err, worker.ErrExited) {
			err = fmt.Errorf("worker process could not start: %w", err)
		}
	}
	return w, err
}

// kill kills w.
func (p *procPool) kill(w *worker.Proc) {
	w.Kill()
	p.metrics.ended()
}

// replace kills w and starts a worker in its place, in the background so
// that the request that found w broken is answered at once.
func (p *procPool) replace(w *worker.Proc) {
	p.wg.Go(func() {
		p.kill(w)
		nw, err := p.start(true)
		if err != nil {
			nw = nil // started again on the slot's next use
		}
		p.put(nw)
	})
}

func (p *procPool) Stop() {
	p.wg.Wait()
	var closing sync.WaitGroup
	for range cap(p.free) {
		<-p.free
	}
	for _, w := range p.idle {
		if w != nil {
			closing.Go(func() {
				w.Close(closeGrace)
				p.metrics.ended()
			})
		}
	}
	closing.Wait()
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
