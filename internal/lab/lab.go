// Package lab runs the lecture's experiment live, for a page a teacher
// drives in front of a class: one real server at a time, started as
// compare starts them; its clients' answers per second pushed as each
// interval closes; long requests sent when the page asks; and each
// section's figures kept for the lecture's table at the end.
package lab

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
)

// Defaults of a Lab.
const (
	DefaultInterval = 200 * time.Millisecond
	DefaultMaxRun   = 10 * time.Minute
	startTimeout    = 30 * time.Second
	// beforeWindow is how much of the run before a long request its
	// before-rate is taken over.
	beforeWindow = time.Second
)

// ErrBusy is the error of a long request asked for while one is in flight,
// and ErrIdle of one asked for with no server running.
var (
	ErrBusy   = errors.New("a long request is in flight: wait for its answer")
	ErrIdle   = errors.New("no server runs: start one first")
	ErrClosed = errors.New("the lab has stopped")
)

// A Lab runs one server at a time. Its zero value is ready; Close stops
// it.
type Lab struct {
	// Stderr receives the servers' stderr; nil discards it.
	Stderr io.Writer
	// Interval is how often the clients' answers are counted and pushed;
	// 0 means DefaultInterval.
	Interval time.Duration
	// MaxRun bounds a section's run; 0 means DefaultMaxRun.
	MaxRun time.Duration

	mu       sync.Mutex // guards what follows
	cur      *session
	sections []section
	closed   bool
	dir      string // the servers' timelines, removed by Close

	hub hub
	wg  sync.WaitGroup // the sessions' goroutines
}

// A section is a finished run: its row of the lecture's table, and its
// result.
type section struct {
	row loadtest.Row
	res *loadtest.Result
}

// Start stops the server running, if any, and starts the one s asks for,
// with its clients.
func (l *Lab) Start(s Settings) (Settings, error) {
	x, s, err := s.experiment()
	if err != nil {
		return s, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return s, ErrClosed
	}
	l.stopLocked()
	if s.Lanes {
		if l.dir == "" {
			if l.dir, err = os.MkdirTemp("", "primetime-lab-"); err != nil {
				return s, err
			}
		}
		x.TraceDir = l.dir
	}
	x.Stderr = l.Stderr
	if x.Stderr == nil {
		x.Stderr = io.Discard
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	srv, err := x.Start(ctx, s.row())
	cancel()
	if err != nil {
		return s, err
	}
	iv := l.Interval
	if iv <= 0 {
		iv = DefaultInterval
	}
	run := l.MaxRun
	if run <= 0 {
		run = DefaultMaxRun
	}
	sc := x.Scenario
	sc.Addr, sc.ServerPID, sc.LongAfter, sc.Duration, sc.Interval = srv.Addr, srv.Pid, -1, run, iv
	ctx, cancel = context.WithCancel(context.Background())
	ss := &session{settings: s, srv: srv, ctx: ctx, cancel: cancel, done: make(chan struct{}), hub: &l.hub, label: srv.Row.Label()}
	l.cur = ss
	l.wg.Go(func() { ss.run(ctx, sc) })
	l.hub.publish(Event{Type: "started", Data: map[string]any{"settings": s, "row": ss.label, "long": srv.Long, "interval": iv.Seconds()}})
	return s, nil
}

// Long sends the long request to the server running, and returns at once:
// its answer, and the kept of the flow while it ran, are pushed as events.
func (l *Lab) Long() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == nil {
		return ErrIdle
	}
	return l.cur.sendLong(&l.wg)
}

// Stop stops the server running, if any, and keeps its section.
func (l *Lab) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopLocked()
}

// stopLocked stops the current session and keeps its section.
func (l *Lab) stopLocked() {
	ss := l.cur
	if ss == nil {
		return
	}
	l.cur = nil
	row, res, err := ss.stop()
	if res != nil {
		// A section run again replaces its earlier run.
		l.sections = slices.DeleteFunc(l.sections, func(s section) bool { return s.row.Label() == row.Label() })
		l.sections = append(l.sections, section{row: row, res: res})
	}
	data := map[string]any{"row": row.Label()}
	if err != nil {
		data["error"] = err.Error()
	}
	l.hub.publish(Event{Type: "stopped", Data: data})
}

// Comparison returns the sections run so far as a comparison, a row each,
// as compare saves one (which `primetime report` redraws); nil before any.
func (l *Lab) Comparison() *loadtest.Comparison {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.sections) == 0 {
		return nil
	}
	cmp := &loadtest.Comparison{Scenario: l.sections[0].res.Scenario, Conditions: loadtest.CurrentConditions()}
	for _, s := range l.sections {
		cmp.Rows = append(cmp.Rows, s.row)
		cmp.Results = append(cmp.Results, s.res)
	}
	cmp.Claims = cmp.LectureClaims()
	return cmp
}

// Subscribe returns a channel of the lab's events, from now on, and a
// function that ends the subscription. A subscriber that falls behind
// loses events rather than slowing the experiment.
func (l *Lab) Subscribe() (<-chan Event, func()) { return l.hub.subscribe() }

// Close stops the server running and waits for every goroutine of the
// lab; it ends the subscriptions.
func (l *Lab) Close() error {
	l.mu.Lock()
	l.closed = true
	l.stopLocked()
	l.mu.Unlock()
	l.wg.Wait()
	l.hub.close()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dir != "" {
		return os.RemoveAll(l.dir)
	}
	return nil
}

// Lanes returns the running section's row with the timeline of its latest
// long request (Row.Trace), and false if it has none yet.
func (l *Lab) Lanes() (loadtest.Row, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == nil {
		return loadtest.Row{}, false
	}
	return l.cur.lanesRow()
}
