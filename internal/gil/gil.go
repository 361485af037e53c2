// Package gil emulates CPython's global interpreter lock, so that a Go
// server can behave as a CPython server with threads does.
//
// It follows CPython's algorithm (Python/ceval_gil.c, 3.11 and 3.12):
//
//   - A goroutine that wants the lock while another holds it waits, one
//     switch interval at a time. If a whole interval passes with no switch
//     of holder, it sets the holder's drop request.
//   - The holder checks its drop request at every checkpoint (the eval
//     loop's check) and, if set, drops the lock.
//   - A holder that drops the lock because it was asked to waits until
//     another goroutine has taken it before it competes again (CPython's
//     FORCE_SWITCHING), so that it cannot take the lock straight back.
//   - Releasing the lock wakes one waiter, which runs again after a
//     wake-up delay. Until then a goroutine that finds the lock free takes
//     it, which is why a thread that releases the lock around a quick
//     system call usually gets it straight back; from then on the free
//     lock is the woken waiter's, as an OS thread that has woken takes it
//     while the other is still in a slower system call.
//
// Each goroutine that runs "Python code" has a [Thread], the analogue of a
// PyThreadState, with the role it plays. Code takes and drops the lock only
// through the steps of steps.go, each named after what CPython does there
// (running code, a system call, the second acquisition after a send, a
// turn of an event loop). Every method of a nil *Thread just runs what it
// is given, so code can call them unconditionally and pay almost nothing
// when the emulation is off.
package gil

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/primetime-lab/primetime/internal/timeline"
)

// DefaultInterval is CPython's default switch interval.
const DefaultInterval = 5 * time.Millisecond

// A GIL is one interpreter's lock.
type GIL struct {
	interval time.Duration
	// wakeDelay is how long a waiter that a drop woke takes to run again,
	// as an OS thread woken on a condition variable does; the lock is
	// free meanwhile, for a thread already running to take. afterWake
	// waits until the time it is given; tests replace it, and now, to
	// decide when a woken thread runs.
	wakeDelay time.Duration
	afterWake func(until time.Time)
	now       func() time.Time
	// sleep waits until w is woken, and reports true, or until d has
	// passed, and reports false; tests replace it to decide when an
	// interval has passed.
	sleep func(w *waiter, d time.Duration) (woken bool)

	mu         sync.Mutex
	locked     bool
	holder     *Thread
	lastHolder *Thread
	switches   uint64        // switches of holder since the start
	waiters    []*waiter     // goroutines waiting for the lock, oldest first
	switched   chan struct{} // closed and replaced at each switch of holder
	// woken is the waiter the last drop woke, until it takes the lock or
	// finds it taken; once its wake-up is over, the free lock is its.
	woken *waiter
	// rec, if not nil, records the lock's events, on the lanes of the
	// threads; a thread without one gets a lane of its role.
	rec *timeline.Recorder
}

// A waiter is one timed wait of a goroutine for the lock.
type waiter struct {
	state uint32        // 1 once a drop has woken it; the futex word on Linux
	until time.Time     // when its wake-up is over; set by that drop
	wake  chan struct{} // closed by the drop that wakes it
}

// wakeUp wakes w, whose wake-up is over at until.
func (w *waiter) wakeUp(until time.Time) {
	w.until = until
	atomic.StoreUint32(&w.state, 1)
	close(w.wake)
	wakeThread(&w.state)
}

// New returns a lock with the given switch interval; an interval under a
// microsecond is taken as a microsecond, as CPython does.
func New(interval time.Duration) *GIL {
	made.Store(true)
	g := &GIL{interval: max(interval, time.Microsecond), switched: make(chan struct{}), sleep: sleepThread, now: time.Now}
	g.afterWake = spinUntil
	return g
}

// threadWaiters is how many waiters at once sleep with sleep, which on
// Linux blocks an OS thread each; the others sleep on the runtime's
// timers, so that thousands of waiting requests need no thread each.
const threadWaiters = 64

// sleepOnTimer is the portable sleep, on the runtime's timers: they may
// fire up to a millisecond late, as they wait for the network poller in
// whole milliseconds.
func sleepOnTimer(w *waiter, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.wake:
		return true
	case <-t.C:
		return atomic.LoadUint32(&w.state) == 1
	}
}

// SetRecorder has r record the lock's holds, waits, drop requests and
// failed wake-ups; call it before any thread uses g. A nil g (Go mode)
// has nothing to record.
func (g *GIL) SetRecorder(r *timeline.Recorder) {
	if g != nil {
		g.rec = r
	}
}

// Interval returns the switch interval.
func (g *GIL) Interval() time.Duration { return g.interval }

// SetWakeDelay sets how long a waiter that a drop woke takes to run again;
// call it before any thread uses g.
func (g *GIL) SetWakeDelay(d time.Duration) { g.wakeDelay = max(d, 0) }

// spinUntil passes a woken thread's wake-up delay, on the CPU: a sleep of
// a few hundred microseconds takes the runtime's timers about a
// millisecond.
func spinUntil(end time.Time) {
	for time.Now().Before(end) {
	}
}

// Switches returns how many times the lock has changed holder.
func (g *GIL) Switches() uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.switches
}

// A Thread is one goroutine's state with respect to the lock. A Thread must
// be used by one goroutine at a time.
type Thread struct {
	g           *GIL
	role        Role
	running     Running     // {Thread: this thread}, for contexts to carry
	dropRequest atomic.Bool // the drop request, CPython's EVAL_DROP_GIL
	held        bool        // this thread holds the lock; only its goroutine reads it
	drops       uint64      // how many times it has dropped the lock; only its goroutine reads it

	// lane records the thread's events, if the lock has a recorder;
	// holdStart is when its hold began, after a wait from waitStart,
	// serving the request it serves.
	// Only its goroutine uses them.
	lane      *timeline.Lane
	laneMade  bool
	holdStart int64
	waitStart int64 // or -1 if it took the lock without waiting
	serving   []byte
}

// SetLane has t's events recorded on l, the lane of what t runs for (its
// connection, say), rather than on a lane of its own.
func (t *Thread) SetLane(l *timeline.Lane) {
	if t == nil {
		return
	}
	t.lane, t.laneMade = l, true
	t.running.Lane = l
}

// Lane returns the lane t's events are recorded on, or nil.
func (t *Thread) Lane() *timeline.Lane {
	if t == nil {
		return nil
	}
	return t.lane
}

// Serving says which request t serves now, for its recorded events.
func (t *Thread) Serving(payload []byte) {
	if t != nil && t.lane != nil {
		t.serving = append(t.serving[:0], payload...)
	}
}

// recording returns t's lane, made on first use if the lock has a
// recorder, or nil.
func (t *Thread) recording() *timeline.Lane {
	if !t.laneMade {
		t.laneMade = true
		if t.g.rec != nil {
			t.lane = t.g.rec.Lane(t.role.String()+" thread", t.role.String())
			t.running.Lane = t.lane
		}
	}
	return t.lane
}

// NewThread returns a new thread of g in the given role, not holding the
// lock. It returns nil for a nil g.
func (g *GIL) NewThread(role Role) *Thread {
	if g == nil {
		return nil
	}
	t := &Thread{g: g, role: role}
	t.running.Thread = t
	return t
}

// Role returns the role t was made for.
func (t *Thread) Role() Role { return t.role }

// Drops returns how many times t has dropped the lock. Only t's goroutine
// may call it.
func (t *Thread) Drops() uint64 {
	if t == nil {
		return 0
	}
	return t.drops
}

// Held reports whether t holds the lock.
func (t *Thread) Held() bool { return t != nil && t.held }

// take waits for the lock and takes it.
func (t *Thread) take() {
	g := t.g
	lane := t.recording()
	waitStart := int64(-1)
	g.mu.Lock()
	var woken *waiter // t's last wait, if a drop woke it
	for g.locked || g.reservedLocked(woken) {
		if lane != nil && waitStart < 0 {
			waitStart = lane.Now()
		}
		saved := g.switches
		w := &waiter{wake: make(chan struct{})}
		sleep := g.sleep
		if len(g.waiters) >= threadWaiters {
			sleep = sleepOnTimer
		}
		g.waiters = append(g.waiters, w)
		g.mu.Unlock()
		timedOut := !sleep(w, g.interval)
		if !timedOut {
			g.afterWake(w.until)
		}
		g.mu.Lock()
		g.removeWaiterLocked(w)
		woken = nil
		if g.woken == w {
			woken = w
			if g.locked {
				g.woken = nil // too late: it waits again
				lane.Instant(timeline.FailedWake, t.serving)
			}
		}
		// A whole interval without a switch: ask the holder to drop.
		if timedOut && g.locked && g.switches == saved {
			g.holder.dropRequest.Store(true)
			lane.Instant(timeline.DropRequest, t.serving)
		}
	}
	if woken != nil {
		g.woken = nil
	}
	g.locked = true
	g.holder = t
	if g.lastHolder != t {
		g.lastHolder = t
		g.switches++
		close(g.switched)
		g.switched = make(chan struct{})
	}
	t.dropRequest.Store(false)
	t.held = true
	g.mu.Unlock()
	if lane != nil { // outside the lock's critical section; drop records the wait
		t.holdStart, t.waitStart = lane.Now(), waitStart
	}
}

// recordHold records t's last wait for the lock, if it waited, and its
// hold until end, once it has released the lock: nothing of it lengthens
// the hold.
func (t *Thread) recordHold(end int64, why Reason) {
	if t.lane == nil {
		return
	}
	if t.waitStart >= 0 {
		t.lane.Between(timeline.Wait, t.waitStart, t.holdStart, t.serving)
	}
	t.lane.Hold(t.holdStart, end, timeline.Why(why), t.serving)
}

// reservedLocked reports whether the free lock is a woken waiter's, one
// other than the one woken has woken.
func (g *GIL) reservedLocked(woken *waiter) bool {
	return g.woken != nil && g.woken != woken && !g.now().Before(g.woken.until)
}

func (g *GIL) removeWaiterLocked(w *waiter) {
	for i, x := range g.waiters {
		if x == w {
			g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
			return
		}
	}
}

// drop releases the lock, for the reason given, and wakes one waiter. If t
// was asked to drop it, drop returns only once another thread has taken it.
func (t *Thread) drop(why Reason) {
	g := t.g
	defer t.recordHold(t.lane.Now(), why)
	g.mu.Lock()
	if !t.held || g.holder != t {
		g.mu.Unlock()
		panic("gil: a thread that does not hold the lock dropped it")
	}
	t.held = false
	t.drops++
	g.lastHolder = t
	g.locked = false
	g.holder = nil
	if len(g.waiters) > 0 {
		g.woken = g.waiters[0]
		g.woken.wakeUp(g.now().Add(g.wakeDelay))
		g.waiters = g.waiters[1:]
	}
	if t.dropRequest.Load() {
		// Forced switching: do not compete again until someone else
		// has had the lock.
		t.dropRequest.Store(false)
		for g.lastHolder == t {
			switched := g.switched
			g.mu.Unlock()
			<-switched
			g.afterWake(g.now().Add(g.wakeDelay))
			g.mu.Lock()
		}
	}
	g.mu.Unlock()
}

// Checkpoint is the eval loop's check: if another thread has asked for the
// lock for a whole interval, t drops it, waits for the switch, and takes it
// back. Without a drop request it costs one atomic load.
func (t *Thread) Checkpoint() {
	if t == nil || !t.dropRequest.Load() || !t.held {
		return
	}
	t.drop(DropRequest)
	t.take()
}

// Running is what a task's checkpoints do on the goroutine that runs it,
// besides looking at the task's context: yield the lock of the
// interpreter thread it runs as, in Python mode, and look at its
// connection, for a task that an event loop runs itself and so cannot
// watch otherwise. A context carries one Running, so that a task that a
// goroutine hands to another, which runs it under a Running of its own (or
// none), takes neither the thread nor the watch with it.
type Running struct {
	// Thread is the interpreter thread, or nil in Go mode.
	Thread *Thread
	// Watch, if not nil, looks at the task's connection, and ends the
	// task's context if the client has left.
	Watch func()
	// Lane, if not nil, records the tasks that run on the goroutine.
	Lane *timeline.Lane
	// caller is, for work handed to another goroutine, the lane of the
	// goroutine that handed it over (see WithoutThread).
	caller *timeline.Lane
}

// CallerLane returns the lane of the goroutine that submitted ctx's task,
// for its wait for a worker: LaneOf's, or the lane of the goroutine that
// WithoutThread was called for.
func CallerLane(ctx context.Context) *timeline.Lane {
	if !timeline.Active() {
		return nil
	}
	if r := running(ctx); r != nil {
		if r.caller != nil {
			return r.caller
		}
		return r.Lane
	}
	return nil
}

// LaneOf returns the lane of the goroutine that ctx's task runs on, or nil:
// one atomic load unless a recorder has been made in this process.
func LaneOf(ctx context.Context) *timeline.Lane {
	if !timeline.Active() {
		return nil
	}
	if r := running(ctx); r != nil {
		return r.Lane
	}
	return nil
}

// TaskLane returns the lane to record ctx's task on as a Task span, or
// nil: LaneOf's in Go mode, and none in Python mode, where the thread's
// holds of the lock, which carry the request, show when it ran, and a
// span more would lengthen each hold.
func TaskLane(ctx context.Context) *timeline.Lane {
	if !timeline.Active() {
		return nil
	}
	if r := running(ctx); r != nil && r.Thread == nil {
		return r.Lane
	}
	return nil
}

type contextKey struct{}

// made is set once a lock or a watch has been made in this process: until
// then no context can carry a Running, and a checkpoint need not look.
var made atomic.Bool

// WithRunning returns a context that carries r, for a task that runs on
// the goroutine r describes.
func WithRunning(ctx context.Context, r *Running) context.Context {
	made.Store(true)
	return context.WithValue(ctx, contextKey{}, r)
}

// WithThread returns a context that carries t, so that a task running
// under it checkpoints t, and no watch. It returns ctx itself for a nil t
// that has nothing to replace.
func WithThread(ctx context.Context, t *Thread) context.Context {
	if t == nil {
		return WithoutThread(ctx)
	}
	return context.WithValue(ctx, contextKey{}, &t.running)
}

// WithoutThread returns a context that carries no thread, watch or lane,
// for work that ctx's goroutine hands to another goroutine; it keeps that
// goroutine's lane for CallerLane.
func WithoutThread(ctx context.Context) context.Context {
	if running(ctx) == nil {
		return ctx
	}
	if lane := CallerLane(ctx); lane != nil {
		return context.WithValue(ctx, contextKey{}, &Running{caller: lane})
	}
	return context.WithValue(ctx, contextKey{}, (*Running)(nil))
}

// running returns the Running ctx carries, or nil. In a process that has
// made no lock and no watch it costs an atomic load, not a context lookup:
// what every task's checkpoint costs in Go mode.
func running(ctx context.Context) *Running {
	if !made.Load() {
		return nil
	}
	r, _ := ctx.Value(contextKey{}).(*Running)
	return r
}

// FromContext returns the thread ctx carries, or nil.
func FromContext(ctx context.Context) *Thread {
	if r := running(ctx); r != nil {
		return r.Thread
	}
	return nil
}

// Checkpoint is what a task's checkpoint does besides looking at ctx: it
// yields the lock of the thread ctx carries if another thread has asked
// for it, and looks at the task's connection if ctx carries a watch.
func Checkpoint(ctx context.Context) {
	if r := running(ctx); r != nil {
		r.Thread.Checkpoint()
		if r.Watch != nil {
			r.Watch()
		}
	}
}

// Released returns ctx for a task its thread runs without the lock, as a C
// extension does between Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS:
// the same watch and lane, and no thread, so that its checkpoints neither
// yield the lock nor take it.
func Released(ctx context.Context) context.Context {
	r := running(ctx)
	if r == nil || r.Thread == nil {
		return ctx
	}
	cp := *r
	cp.Thread = nil
	if cp.Lane == nil {
		cp.Lane = r.Thread.Lane()
	}
	return context.WithValue(ctx, contextKey{}, &cp)
}
