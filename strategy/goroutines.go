package strategy

import (
	"context"
	"fmt"
	"sync"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/timeline"
)

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

func (g goroutines) String() string { return partForm(goroutinesName, g.n) }

func (g goroutines) describe() Part { return Part{Name: goroutinesName, Size: g.n} }

func (g goroutines) Start(env Env) (Runner, error) {
	p := &goroutinePool{queueLane: env.Recorder.Lane("goroutines queue", "queue")}
	p.ready.L = &p.mu
	for i := range g.n {
		// Workers are threads of the same interpreter: in Python
		// mode they share the server's lock.
		w := env.WorkerThread(fmt.Sprintf("worker %d", i+1))
		p.wg.Go(func() { p.work(w) })
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
	// lane is the submitter's, on which the job's wait in the queue is
	// recorded from queued.
	lane   *timeline.Lane
	queued int64
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
	// queueLane records the queue's depth, if a timeline is recorded.
	queueLane *timeline.Lane
}

func (p *goroutinePool) work(w *Thread) {
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
		p.queueLane.Depth(len(p.queue) - p.head)
		p.mu.Unlock()
		if j.lane != nil {
			j.lane.Span(timeline.Queued, j.queued, j.payload)
		}
		if j.callback != nil {
			cb := j.callback
			ctx, task, payload := j.ctx, j.task, j.payload
			j.recycle()
			w.RunTask(ctx, task, payload, cb)
			continue
		}
		th := w.gil()
		th.Serving(j.payload)
		th.Run(func() { p.runJob(j, w) })
	}
}

// runJob runs j's task on w, which holds the lock, and wakes the thread
// that waits for it while it still holds the lock, as a Python worker
// signals a waiting thread.
func (p *goroutinePool) runJob(j *job, w *Thread) {
	if err := j.ctx.Err(); err != nil {
		j.err = err // it ended while the job waited
	} else {
		j.answer, j.err = runTask(w.Context(j.ctx), j.task, j.payload)
	}
	j.done <- struct{}{}
}

// enqueue queues j for the next free worker.
func (p *goroutinePool) enqueue(j *job) {
	if p.queueLane != nil {
		if j.lane = gil.LaneOf(j.ctx); j.lane != nil {
			j.queued = j.lane.Now()
		}
	}
	p.mu.Lock()
	p.queue = append(p.queue, j)
	p.queueLane.Depth(len(p.queue) - p.head)
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
	j := newJob(ctx, t, payload)
	defer j.recycle()
	var err error
	gil.FromContext(ctx).Syscall(func() {
		p.enqueue(j)
		select {
		case <-j.done:
		case <-ctx.Done():
			if p.withdraw(j) {
				err = ctx.Err()
				return
			}
			<-j.done
		}
	})
	if err != nil {
		return nil, err
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
