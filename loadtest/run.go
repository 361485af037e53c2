package loadtest

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/primetime-lab/primetime/internal/wire"
)

// A Monitor is told about each interval as it closes, with the events that
// happened during it. It runs on the monitor's goroutine: a slow Monitor
// delays the next interval's report, not the clients.
type Monitor func(iv Interval, events []Event)

// Run plays sc against the server at sc.Addr and returns what happened.
// monitor, if not nil, is told about each interval as it closes.
//
// Before the run, Run asks the small request once, on a connection of its
// own: if nothing listens at sc.Addr, or the server speaks another
// protocol, refuses the small request, or answers it in a way the check
// does not take, Run returns a *FieldError at once that says what to
// change, and no result. Otherwise a server that refuses, drops or stalls
// connections gives errors and empty intervals in the result, not a hang:
// every wait ends with the run. If ctx ends first, Run stops early and
// returns the partial result with ctx's error.
//
// Measure a server in a process of its own. A server in Run's own process
// shares the generator's scheduler: the clients' goroutines and the
// server's take turns on the same Ps, so the server's figures move with
// the generator's load, and the CPU the generator records is both's. The
// result's Conditions say so (ServerInProcess), and no GeneratorBound
// verdict is given.
func Run(ctx context.Context, sc Scenario, monitor Monitor) (*Result, error) {
	sc, err := sc.WithDefaults()
	if err != nil {
		return nil, err
	}
	r := newGenerator(sc)
	if err := r.probe(ctx); err != nil {
		return nil, err
	}
	// Before the run: the conditions take a moment to read.
	r.conditions = CurrentConditions()
	r.conditions.ServerInProcess = listensHere(sc.Addr)
	if !sc.StartAt.IsZero() && sleepUntil(ctx, sc.StartAt) {
		return nil, ctx.Err()
	}
	return r.play(ctx, monitor)
}

// A generator is one Run of a scenario: the clients' shared state, the
// rare events, and what the monitor's goroutine adds up.
type generator struct {
	sc    Scenario
	start time.Time
	// end is when the run ends, in Unix nanoseconds: the bound of
	// MaxDuration while it runs, the end of its last interval once it has
	// ended; requests answered after it do not count.
	end       atomic.Int64
	warmupEnd time.Time
	// smallAt and longAt are where the small and the long requests go,
	// and the requests as the protocol sends them.
	smallAt, longAt endpoint
	// smallCheck and longCheck check their answers; the long answer is
	// checked once the run is over, so that a check that computes the
	// answer takes no CPU from the run.
	smallCheck, longCheck *checker
	conditions            Conditions // read before the run
	cpu                   *cpuMeter
	phase                 atomic.Int32
	tallies               []*tally
	// answeredBefore counts each client's answers after the warm-up and
	// before the long request; only the monitor's goroutine uses it.
	answeredBefore []int
	// closed counts the connections the server closed after an answer.
	closed atomic.Int64

	mu     sync.Mutex // guards what follows: the rare events
	events []Event
	firsts [numErrKinds]bool
	long   longState
	// longsAnswered and longsError are the Longs clients' answers and
	// first failure.
	longsAnswered int
	longsError    string
}

// newGenerator returns the generator of sc, whose defaults are set.
func newGenerator(sc Scenario) *generator {
	r := &generator{sc: sc, smallCheck: newChecker(sc, sc.Small, false), longCheck: newChecker(sc, sc.Long, true)}
	if t := sc.Target; t != nil {
		r.smallAt, r.longAt = t.endpoint(t.Small), t.endpoint(t.Long)
	} else {
		codec := func() wire.ClientCodec {
			c, _ := newClientCodec(sc.Protocol) // checked by WithDefaults
			return c
		}
		c := codec()
		r.smallAt = endpoint{addr: sc.Addr, request: c.AppendRequest(nil, sc.Small), codec: codec}
		r.longAt = endpoint{addr: sc.Addr, request: c.AppendRequest(nil, sc.Long), codec: codec}
	}
	r.phase.Store(int32(before))
	for range sc.Clients {
		r.tallies = append(r.tallies, newTally())
	}
	r.answeredBefore = make([]int, sc.Clients)
	return r
}

// firstError records the first error of each kind as an event.
func (r *generator) firstError(k errKind, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.firsts[k] {
		return
	}
	r.firsts[k] = true
	r.events = append(r.events, Event{Time: time.Now(), Kind: FirstError, Detail: errKindNames[k] + ": " + err.Error()})
}

// measured reports whether the run, at t, has measured what it came for,
// and may end: Duration has passed, and the long request, if any, has
// failed, or has been answered at least an "after" window before t.
func (r *generator) measured(t, planned time.Time) bool {
	if t.Before(planned) {
		return false
	}
	if !r.sc.SendsLong() {
		return true
	}
	r.mu.Lock()
	long := r.long
	r.mu.Unlock()
	switch {
	case long.ended.IsZero():
		return false
	case long.err != "" || long.refused:
		return true
	}
	return !t.Before(long.ended.Add(r.afterWindow()))
}

// afterWindow is the least time a run goes on after its long request's
// answer: as long as the window before it, and at least one interval.
func (r *generator) afterWindow() time.Duration {
	return max(r.start.Add(r.sc.LongAfter).Sub(r.warmupEnd), r.sc.Interval)
}

// ended reports whether t is at or after the run's end.
func (r *generator) ended(t time.Time) bool { return t.UnixNano() >= r.end.Load() }

// play runs the clients until the run's end, closes each interval as its
// time comes, and returns the result.
func (r *generator) play(ctx context.Context, monitor Monitor) (*Result, error) {
	r.start = time.Now()
	if !r.sc.StartAt.IsZero() {
		r.start = r.sc.StartAt // the intervals of every generator started at it line up
	}
	planned, bound := r.start.Add(r.sc.Duration), r.start.Add(r.sc.MaxDuration)
	r.end.Store(bound.UnixNano())
	// The warm-up ends with the first interval that starts after it, so
	// that whole intervals are in or out of the figures.
	r.warmupEnd = r.start.Add((r.sc.Warmup + r.sc.Interval - 1) / r.sc.Interval * r.sc.Interval)
	runCtx, stop := context.WithDeadline(ctx, bound)
	defer stop()

	var wg sync.WaitGroup // the clients
	for i, t := range r.tallies {
		wg.Go(func() { r.client(runCtx, i, t) })
	}
	if r.sc.SendsLong() {
		wg.Go(func() { r.longClient(runCtx) })
	}
	for range r.sc.Longs {
		wg.Go(func() { r.longsClient(runCtx) })
	}
	res := &Result{Scenario: r.sc, Start: r.start, Conditions: r.conditions}
	res.Conditions.Start = r.start
	r.cpu = newCPUMeter(r.sc.ServerPID)
	total := newHistogram()
	var phases [numPhases]int
	errs := [numErrKinds]int{}
	reported := 0
	ivStart := r.start
	for k := 1; ; k++ {
		ivEnd := r.start.Add(time.Duration(k) * r.sc.Interval)
		if ivStart.Before(planned) && ivEnd.After(planned) {
			ivEnd = planned // a run that needs no more ends where planned
		}
		if ivEnd.After(bound) {
			ivEnd = bound
		}
		cancelled := sleepUntil(ctx, ivEnd)
		if cancelled {
			ivEnd = time.Now()
		}
		last := cancelled || !ivEnd.Before(bound) || r.measured(ivEnd, planned)
		if last {
			// The clients stop now: what is answered after the end
			// does not count.
			r.end.Store(ivEnd.UnixNano())
			stop()
		}
		iv := r.closeInterval(ivStart, ivEnd, total, &phases, &errs)
		res.Intervals = append(res.Intervals, iv)
		if monitor != nil {
			r.mu.Lock()
			fresh := append([]Event(nil), r.events[reported:]...)
			reported = len(r.events)
			r.mu.Unlock()
			monitor(iv, fresh)
		}
		ivStart = ivEnd
		if last {
			break
		}
	}
	stop()
	wg.Wait()
	res.End = ivStart
	r.checkLong()
	r.mu.Lock()
	res.Events = append([]Event(nil), r.events...)
	long := r.long
	r.mu.Unlock()
	res.Summary = r.summarize(res.End, long, total, phases, errs)
	if !res.Conditions.ServerInProcess { // the generator's CPU is the server's too
		res.Summary.GeneratorBound, res.Summary.GeneratorWhy = r.generatorBound(res.Intervals, long)
	}
	res.Summary.InFlight = inFlight(res.Intervals, long)
	for _, n := range r.answeredBefore {
		if n > 0 {
			res.Summary.AnsweredClients++
		}
	}
	r.mu.Lock()
	res.Summary.LongsAnswered, res.Summary.LongsError = r.longsAnswered, r.longsError
	r.mu.Unlock()
	return res, ctx.Err()
}

// sleepUntil waits until t, or until ctx ends; it reports whether ctx
// ended.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return false
	case <-ctx.Done():
		return true
	}
}
