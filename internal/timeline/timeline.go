// Package timeline records who runs when in a server: the interpreter
// lock's holds and waits in Python mode, the event loop's polls and busy
// spans, the tasks on their workers and the executors' queues, and each
// request from its arrival to its answer. It is written in the Trace Event
// Format, which Perfetto's UI and chrome://tracing open.
//
// A Recorder is off unless one is made, and then bounded: its events live
// in a ring of a fixed memory budget, and once the anchor request (the
// long one) has arrived, it records until a window after it and stops, so
// that the part people look at, around the long request's start, is kept.
// Code records through a *Lane, one per thread, loop, worker or
// connection; every method of a nil *Lane does nothing, so that recording
// costs one branch when it is off.
package timeline

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Kind says what an event is.
type Kind uint8

// The kinds of events. Spans have a duration; the others are instants or
// counters.
const (
	Hold        Kind = iota // a thread holds the interpreter lock; Why says why it ended
	Wait                    // a thread waits for the lock
	DropRequest             // a waiter asked the holder to drop the lock (instant)
	FailedWake              // a waiter woken by a drop found the lock taken (instant)
	Poll                    // the loop waits for events
	Busy                    // the loop handles events; N is how many
	Task                    // a task runs; PID is its worker process's, if any
	Queued                  // a task waits in an executor's queue
	Request                 // a request, from its arrival to its answer
	Depth                   // an executor's queue depth is N (counter)
)

// Why says why a hold ended.
type Why uint8

// The reasons a hold ends, as gil.Reason.
const (
	Done Why = iota
	Blocked
	Dropped
)

var whyNames = [...]string{"done", "blocked", "drop request"}

func (w Why) String() string {
	if int(w) < len(whyNames) {
		return whyNames[w]
	}
	return "unknown"
}

// payloadMax is how much of a request's payload an event keeps.
const payloadMax = 16

// An Event is one recorded event, of a fixed size and without pointers, so
// that the ring costs the collector nothing to scan.
type Event struct {
	TS, Dur int64 // nanoseconds since the recorder began; Dur for spans
	Lane    int32
	PID     int32 // a worker process's pid, or 0 for the server's
	N       int32 // events handled (Busy), queue depth (Depth)
	Kind    Kind
	Why     Why
	plen    uint8
	payload [payloadMax]byte
}

// Payload returns the request payload the event is about, or "".
func (e *Event) Payload() string { return string(e.payload[:e.plen]) }

func (e *Event) setPayload(p []byte) {
	e.plen = uint8(copy(e.payload[:], p))
}

// Options bound a Recorder.
type Options struct {
	// Budget is the memory the events may take, in bytes: three
	// quarters for the ring, a quarter for the lanes' buffers. 0 means
	// DefaultBudget; less than MinBudget means MinBudget.
	Budget int
	// Anchor is the payload of the request around whose arrival the
	// recording is kept: Before it and After it, or until Before after
	// its answer if that comes first. Empty means no anchor: the ring
	// keeps the latest events.
	Anchor string
	// Before and After bound the window around the anchor; 0 means
	// DefaultBefore and DefaultAfter.
	Before, After time.Duration
	// Clock, if not nil, is the recorder's clock, in nanoseconds from its
	// start; tests set one. Nil means the monotonic time since New.
	Clock func() int64
}

// Defaults of Options.
const (
	DefaultBudget = 64 << 20
	MinBudget     = 256 << 10
	DefaultBefore = 250 * time.Millisecond
	DefaultAfter  = 750 * time.Millisecond
)

// maxLanes bounds the lanes, as the events are: a run with a new
// connection per request makes a lane per connection, and those past the
// bound (or past the budget's quarter) record nothing.
const maxLanes = 4096

// active counts the recorders made in this process: until one is, code
// that would look for a lane need not.
var active atomic.Int32

// Active reports whether any recorder has been made in this process: one
// atomic load, for code that would otherwise look up a lane.
func Active() bool { return active.Load() > 0 }

// A Recorder records a server's events. Its methods are safe for
// concurrent use.
type Recorder struct {
	epoch time.Time
	opts  Options

	mu       sync.Mutex
	ring     []Event
	n        uint64 // events ever added; ring[n%len] is the next slot
	anchored bool
	anchor   int64 // when the anchor request arrived
	stop     int64 // anchor + After: events after it are not recorded
	lanes    []laneInfo
	buffered []*Lane // the lanes, whose buffers Events flushes
	refused  uint64  // lanes refused for the bound
	maxLanes int
	full     bool // the window filled the ring before its end
}

type laneInfo struct {
	name string
	role string
	pid  int32
}

// New returns a recorder bounded by o.
func New(o Options) *Recorder {
	if o.Budget <= 0 {
		o.Budget = DefaultBudget
	}
	o.Budget = max(o.Budget, MinBudget)
	if o.Before <= 0 {
		o.Before = DefaultBefore
	}
	if o.After <= 0 {
		o.After = DefaultAfter
	}
	n := o.Budget / 4 * 3 / int(unsafe.Sizeof(Event{}))
	lanes := min(maxLanes, o.Budget/4/int(unsafe.Sizeof(Lane{})))
	active.Add(1)
	return &Recorder{epoch: time.Now(), opts: o, ring: make([]Event, n), maxLanes: lanes}
}

// Options returns the recorder's options, with the defaults filled in.
func (r *Recorder) Options() Options { return r.opts }

// Now returns the recorder's clock: nanoseconds since it began.
func (r *Recorder) Now() int64 {
	if r.opts.Clock != nil {
		return r.opts.Clock()
	}
	return int64(time.Since(r.epoch))
}

// Lane returns a new lane named name (such as "conn 3"), for a thread,
// loop, worker or connection of the given role, in the server's process.
// It returns nil, a lane that records nothing, for a nil r, or past the
// bound of lanes.
func (r *Recorder) Lane(name, role string) *Lane { return r.lane(name, role, 0) }

// ProcessLane returns a new lane for a worker process with the given pid,
// as Lane does.
func (r *Recorder) ProcessLane(name, role string, pid int) *Lane {
	return r.lane(name, role, int32(pid))
}

func (r *Recorder) lane(name, role string, pid int32) *Lane {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lanes) >= r.maxLanes {
		r.refused++
		return nil
	}
	r.lanes = append(r.lanes, laneInfo{name: name, role: role, pid: pid})
	l := &Lane{r: r, id: int32(len(r.lanes)), pid: pid}
	r.buffered = append(r.buffered, l)
	return l
}

// flush moves the lanes' buffered events into the ring.
func (r *Recorder) flush() {
	r.mu.Lock()
	lanes := slices.Clone(r.buffered)
	r.mu.Unlock()
	for _, l := range lanes {
		l.mu.Lock()
		r.addAll(l.buf[:l.n])
		l.n = 0
		l.mu.Unlock()
	}
}

// addAll records events, each unless the window after the anchor has
// passed, or the ring is full of the window: once anchored, the window's
// start is what matters, and its end gives way.
func (r *Recorder) addAll(events []Event) {
	r.mu.Lock()
	for i := range events {
		e := &events[i]
		slot := &r.ring[r.n%uint64(len(r.ring))]
		switch {
		case r.anchored && e.TS > r.stop:
		case r.anchored && r.n >= uint64(len(r.ring)) && slot.TS+slot.Dur >= r.anchor-int64(r.opts.Before):
			r.full = true
		default:
			*slot = *e
			r.n++
		}
	}
	r.mu.Unlock()
}

// Rearm lets the next arrival of the anchor open a new window, as its
// first arrival did: for a server whose long request comes again and
// again (the lab), its timeline written after each.
func (r *Recorder) Rearm() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.anchored, r.full = false, false
}

// arrived notes a request's arrival at ts, which anchors the window if its
// payload is the anchor's.
func (r *Recorder) arrived(ts int64, payload []byte) {
	if r.opts.Anchor == "" || string(payload) != r.opts.Anchor {
		return
	}
	r.mu.Lock()
	if !r.anchored {
		r.anchored, r.anchor, r.stop = true, ts, ts+int64(r.opts.After)
	}
	r.mu.Unlock()
}

// answered notes the answer to a request at ts: the anchor's ends the
// window Before after it, if that comes before After its arrival, so
// that a window set long enough for any long request keeps no more than
// its own.
func (r *Recorder) answered(ts int64, payload []byte) {
	if r.opts.Anchor == "" || string(payload) != r.opts.Anchor {
		return
	}
	r.mu.Lock()
	if r.anchored {
		r.stop = min(r.stop, ts+int64(r.opts.Before))
	}
	r.mu.Unlock()
}

// laneBuffer is how many events a lane keeps before it moves them into
// the ring: one lock of the recorder's per that many events, so that
// lanes recording at once do not contend for it, and a lane that records
// inside the interpreter lock's own critical section holds it no longer
// than a copy.
const laneBuffer = 64

// A Lane is one thread's, loop's, worker's or connection's row of events.
// A nil *Lane records nothing.
type Lane struct {
	r   *Recorder
	id  int32
	pid int32

	mu  sync.Mutex
	n   int
	buf [laneBuffer]Event
}

// add records e on the lane.
func (l *Lane) add(e *Event) {
	l.mu.Lock()
	l.buf[l.n] = *e
	l.n++
	if l.n == len(l.buf) {
		l.r.addAll(l.buf[:])
		l.n = 0
	}
	l.mu.Unlock()
}

// Now returns the lane's recorder's clock, or 0 for a nil l.
func (l *Lane) Now() int64 {
	if l == nil {
		return 0
	}
	return l.r.Now()
}

// Span records a span of kind from start (a time of Now) until now.
func (l *Lane) Span(kind Kind, start int64, payload []byte) {
	if l == nil {
		return
	}
	l.span(kind, Done, start, l.r.Now(), payload)
}

// Between records a span of kind from start until end, times of Now: for
// code that takes the time inside a critical section and records outside.
func (l *Lane) Between(kind Kind, start, end int64, payload []byte) {
	if l == nil {
		return
	}
	l.span(kind, Done, start, end, payload)
}

// Hold records a hold of the lock from start until end, ended for why.
func (l *Lane) Hold(start, end int64, why Why, payload []byte) {
	if l == nil {
		return
	}
	l.span(Hold, why, start, end, payload)
}

// span records a span on a non-nil l; a Request span's end is an answer,
// which may end the window.
func (l *Lane) span(kind Kind, why Why, start, end int64, payload []byte) {
	e := Event{TS: start, Dur: end - start, Lane: l.id, PID: l.pid, Kind: kind, Why: why}
	e.setPayload(payload)
	l.add(&e)
	if kind == Request {
		l.r.answered(end, payload)
	}
}

// Busy records a busy span of a loop from start until now, in which it
// handled n events.
func (l *Lane) Busy(start int64, n int) {
	if l == nil {
		return
	}
	l.add(&Event{TS: start, Dur: l.r.Now() - start, Lane: l.id, Kind: Busy, N: int32(n)})
}

// Instant records an instant event of kind now.
func (l *Lane) Instant(kind Kind, payload []byte) {
	if l == nil {
		return
	}
	e := Event{TS: l.r.Now(), Lane: l.id, PID: l.pid, Kind: kind}
	e.setPayload(payload)
	l.add(&e)
}

// Depth records that the queue the lane stands for holds n tasks now.
func (l *Lane) Depth(n int) {
	if l == nil {
		return
	}
	l.add(&Event{TS: l.r.Now(), Lane: l.id, Kind: Depth, N: int32(n)})
}

// Arrive notes a request's arrival on the lane and returns its time, for
// the Request span that its answer ends.
func (l *Lane) Arrive(payload []byte) int64 {
	if l == nil {
		return 0
	}
	ts := l.r.Now()
	l.r.arrived(ts, payload)
	return ts
}
