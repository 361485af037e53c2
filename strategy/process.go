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

func (p processes) String() string { return partForm(procsName, p.n) }

func (p processes) describe() Part { return Part{Name: procsName, Size: p.n} }

func (p processes) size() int { return perCPU(p.n) }

// Start ignores the server's lock: each worker process is an interpreter of
// its own, with a lock of its own that its one task at a time never
// contends for. It checks that the workers know env.Task.
func (p processes) Start(env Env) (Runner, error) {
	n := p.size()
	pool := &procPool{
		free:    make(chan struct{}, n),
		opts:    worker.Options{StartTimeout: workerStartTimeout},
		remote:  env.Remote("process pool"),
		metrics: env.Metrics,
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

	remote  *Remote
	metrics *worker.Counts // nil if nobody counts
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
		return nil, errNoTask
	}
	var w *worker.Proc
	err := p.remote.Wait(ctx, payload, func() (err error) {
		w, err = p.get(ctx)
		return err
	})
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
	return p.remote.Call(name, payload, func() ([]byte, RemoteWorker, error) {
		ran := RemoteWorker{Pid: w.Pid()}
		answer, usable, err := w.Call(ctx, name, payload, cancelGrace, queued)
		if errors.Is(err, worker.ErrNotDelivered) {
			// The worker died while idle: the task never ran, so run
			// it on a new worker in its place rather than fail the
			// request.
			p.kill(w)
			if w, err = p.startFor(); err != nil {
				return nil, RemoteWorker{}, err
			}
			ran = RemoteWorker{Pid: w.Pid()}
			answer, usable, err = w.Call(ctx, name, payload, cancelGrace, queued)
		}
		if usable {
			p.put(w)
		} else {
			p.replace(w)
		}
		return answer, ran, err
	})
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
		p.metrics.Started(restart)
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
	p.metrics.Ended()
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
				p.metrics.Ended()
			})
		}
	}
	closing.Wait()
}
