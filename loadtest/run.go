package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

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
func Run(ctx context.Context, sc Scenario, monitor Monitor) (*Result, error) {
	sc, err := sc.WithDefaults()
	if err != nil {
		return nil, err
	}
	r := newRun(sc)
	if err := r.probe(ctx); err != nil {
		return nil, err
	}
	if !sc.StartAt.IsZero() && sleepUntil(ctx, sc.StartAt) {
		return nil, ctx.Err()
	}
	return r.run(ctx, monitor)
}

// longState is the long request's progress.
type longState struct {
	sent  time.Time
	ended time.Time // when it was answered, or failed
	// answer is its answer, a result or an error answer (refused); err
	// says how it failed to get one, or why the answer is wrong.
	answer  string
	refused bool
	err     string
	event   int // the index of its answer's event
}

type run struct {
	sc        Scenario
	start     time.Time
	end       time.Time
	warmupEnd time.Time
	small     []byte // the small request, as the protocol sends it
	longReq   []byte // the long request
	// smallCheck and longCheck check their answers; the long answer is
	// checked once the run is over, so that a check that computes the
	// answer takes no CPU from the run.
	smallCheck, longCheck *checker
	cpu                   *cpuMeter
	phase                 atomic.Int32
	tallies               []*tally
	// answeredBefore counts each client's answers after the warm-up and
	// before the long request; only the monitor's goroutine uses it.
	answeredBefore []int

	mu     sync.Mutex // guards what follows: the rare events
	events []Event
	firsts [numErrKinds]bool
	long   longState
	// longsAnswered and longsError are the Longs clients' answers and
	// first failure.
	longsAnswered int
	longsError    string
}

func newRun(sc Scenario) *run {
	codec, _ := newClientCodec(sc.Protocol) // checked by WithDefaults
	r := &run{sc: sc, small: codec.AppendRequest(nil, sc.Small), longReq: codec.AppendRequest(nil, sc.Long),
		smallCheck: newChecker(sc, sc.Small, false), longCheck: newChecker(sc, sc.Long, true)}
	r.phase.Store(int32(before))
	for range sc.Clients {
		r.tallies = append(r.tallies, newTally())
	}
	r.answeredBefore = make([]int, sc.Clients)
	return r
}

// firstError records the first error of each kind as an event.
func (r *run) firstError(k errKind, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.firsts[k] {
		return
	}
	r.firsts[k] = true
	r.events = append(r.events, Event{Time: time.Now(), Kind: FirstError, Detail: errKindNames[k] + ": " + err.Error()})
}

func (r *run) run(ctx context.Context, monitor Monitor) (*Result, error) {
	r.start = time.Now()
	if !r.sc.StartAt.IsZero() {
		r.start = r.sc.StartAt // the intervals of every generator started at it line up
	}
	r.end = r.start.Add(r.sc.Duration)
	// The warm-up ends with the first interval that starts after it, so
	// that whole intervals are in or out of the figures.
	r.warmupEnd = r.start.Add((r.sc.Warmup + r.sc.Interval - 1) / r.sc.Interval * r.sc.Interval)
	runCtx, stop := context.WithDeadline(ctx, r.end)
	defer stop()

	var wg sync.WaitGroup
	for i, t := range r.tallies {
		wg.Go(func() { r.client(runCtx, i, t) })
	}
	if r.sc.SendsLong() {
		wg.Go(func() { r.longClient(runCtx) })
	}
	for range r.sc.Longs {
		wg.Go(func() { r.longsClient(runCtx) })
	}
	res := &Result{Scenario: r.sc, Start: r.start, Conditions: CurrentConditions()}
	r.cpu = newCPUMeter(r.sc.ServerPID)
	total := newHistogram()
	var phases [numPhases]int
	errs := [numErrKinds]int{}
	reported := 0
	ivStart := r.start
	for k := 1; ivStart.Before(r.end); k++ {
		ivEnd := r.start.Add(time.Duration(k) * r.sc.Interval)
		if ivEnd.After(r.end) {
			ivEnd = r.end
		}
		cancelled := sleepUntil(ctx, ivEnd)
		if cancelled {
			ivEnd = time.Now()
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
		if cancelled {
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
	res.Summary.GeneratorBound, res.Summary.GeneratorWhy = r.generatorBound(res.Intervals, long)
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

// inFlight returns how many small requests were in flight on average, by
// Little's law, in the intervals after the warm-up and before the long
// request: while it runs, requests wait unanswered, and their latency is
// not yet known.
func inFlight(ivs []Interval, long longState) float64 {
	var done, seconds, latency float64
	for _, iv := range ivs {
		if iv.Warmup || (!long.sent.IsZero() && iv.End.After(long.sent)) {
			continue
		}
		done += float64(iv.Answers + iv.Errors)
		seconds += iv.End.Sub(iv.Start).Seconds()
		latency += float64(iv.Answers) * iv.Latency.Mean.Seconds()
	}
	if seconds == 0 || done == 0 {
		return 0
	}
	return done / seconds * latency / done
}

// generatorBound says whether the generator may have set the pace in the
// intervals that matter: those after the warm-up and before the long
// request, or all after the warm-up if there is none.
func (r *run) generatorBound(ivs []Interval, long longState) (bool, string) {
	var gen, srv []float64
	for _, iv := range ivs {
		if iv.Warmup || (!long.sent.IsZero() && iv.End.After(long.sent)) {
			continue
		}
		gen, srv = append(gen, iv.GeneratorCPU), append(srv, iv.ServerCPU)
	}
	if len(gen) == 0 {
		for _, iv := range ivs {
			if !iv.Warmup {
				gen, srv = append(gen, iv.GeneratorCPU), append(srv, iv.ServerCPU)
			}
		}
	}
	return generatorBound(gen, srv, runtime.NumCPU())
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

// closeInterval collects every client's bucket for the interval that ends,
// and adds what is past the warm-up to the run's totals.
func (r *run) closeInterval(start, end time.Time, total *hdr.Histogram, phases *[numPhases]int, errs *[numErrKinds]int) Interval {
	iv := Interval{Start: start, End: end, Warmup: start.Before(r.warmupEnd)}
	hist := newHistogram()
	for i, t := range r.tallies {
		b := t.swap()
		hist.Merge(b.hist)
		for p, n := range b.answers {
			iv.Answers += n
			if !iv.Warmup {
				phases[p] += n
				if phase(p) == before {
					r.answeredBefore[i] += n
				}
			}
		}
		for k, n := range b.errors {
			iv.Errors += n
			if !iv.Warmup {
				errs[k] += n
			}
		}
		t.release(b)
	}
	iv.Latency = percentiles(hist)
	iv.Histogram, _ = hist.Encode(hdr.V2CompressedEncodingCookieBase) // cannot fail for this version
	iv.GeneratorCPU, iv.ServerCPU = r.cpu.read()
	if !iv.Warmup {
		total.Merge(hist)
	}
	r.mu.Lock()
	long := r.long
	r.mu.Unlock()
	iv.LongInFlight = !long.sent.IsZero() && long.sent.Before(end) && (long.ended.IsZero() || long.ended.After(start))
	return iv
}

// summarize computes the run's figures once every client has stopped.
func (r *run) summarize(end time.Time, long longState, total *hdr.Histogram, phases [numPhases]int, errs [numErrKinds]int) Summary {
	s := Summary{
		Answers:      phases[before] + phases[during] + phases[after],
		Latency:      percentiles(total),
		LongSent:     !long.sent.IsZero(),
		LongAnswered: !long.ended.IsZero() && long.err == "" && !long.refused,
		LongRefused:  long.refused,
		LongAnswer:   long.answer,
		LongError:    long.err,
	}
	for k, n := range errs {
		s.Errors += n
		if n > 0 {
			if s.ErrorsByKind == nil {
				s.ErrorsByKind = make(map[string]int)
			}
			s.ErrorsByKind[errKindNames[k]] = n
		}
	}
	rate := func(n int, from, to time.Time) float64 {
		d := to.Sub(from).Seconds()
		if d <= 0 {
			return 0
		}
		return float64(n) / d
	}
	from := r.warmupEnd
	switch {
	case !s.LongSent:
		s.Before = rate(s.Answers, from, end)
		s.NoDuring, s.NoAfter = true, true
	case long.ended.IsZero():
		s.Before = rate(phases[before], from, long.sent)
		s.During = rate(phases[during], long.sent, end)
		s.NoAfter = true
	default:
		s.LongLatency = long.ended.Sub(long.sent)
		s.Before = rate(phases[before], from, long.sent)
		s.During = rate(phases[during], long.sent, long.ended)
		s.After = rate(phases[after], long.ended, end)
	}
	s.setKept()
	return s
}

// setKept sets Kept from Before and During, or KeptMissing to why it
// cannot be.
func (s *Summary) setKept() {
	switch {
	case !s.LongSent:
		s.KeptMissing = "no long request was sent"
	case s.LongRefused:
		s.KeptMissing = "the long request was refused"
	case s.LongError != "":
		s.KeptMissing = "the long request failed"
	case !s.LongAnswered:
		s.KeptMissing = "the long request was not answered before the run ended"
	case s.Before == 0:
		s.KeptMissing = "no small request was answered before the long one"
	default:
		s.Kept = s.During / s.Before
	}
}

// client sends small requests until ctx ends.
func (r *run) client(ctx context.Context, i int, t *tally) {
	c := r.newConn()
	defer c.close()
	stop := context.AfterFunc(ctx, c.interrupt)
	defer stop()

	// In open loop, client i sends every Clients/Rate seconds, offset so
	// that the clients together send evenly.
	var period time.Duration
	var due time.Time
	var pace *time.Timer // reused, so that keeping the schedule allocates nothing
	defer func() {
		if pace != nil {
			pace.Stop()
		}
	}()
	if r.sc.Rate > 0 {
		period = time.Duration(float64(r.sc.Clients) / r.sc.Rate * float64(time.Second))
		due = r.start.Add(time.Duration(i) * period / time.Duration(r.sc.Clients))
	}
	retry := time.Duration(0)
	for ctx.Err() == nil {
		if err := c.dial(ctx); err != nil {
			if ctx.Err() != nil || !time.Now().Before(r.end) {
				return
			}
			t.fail(errConnect)
			r.firstError(errConnect, err)
			// Back off, so that a refusing server is not hammered.
			retry = min(max(2*retry, time.Millisecond), 100*time.Millisecond)
			sleepUntil(ctx, time.Now().Add(retry))
			continue
		}
		retry = 0
		sent := time.Now()
		if period > 0 {
			if wait := time.Until(due); wait > 0 {
				if pace == nil {
					pace = time.NewTimer(wait)
				} else {
					pace.Reset(wait)
				}
				select {
				case <-pace.C:
				case <-ctx.Done():
					return
				}
			}
			sent = due
			due = due.Add(period)
		}
		answer, refused, kind, err := c.ask(r.small)
		done := time.Now()
		if ctx.Err() != nil || !done.Before(r.end) {
			// The run ended, perhaps a moment before its context says
			// so; the request in flight does not count.
			return
		}
		if err != nil {
			t.fail(kind)
			r.firstError(kind, err)
			continue
		}
		if refused {
			t.fail(errAnswer)
			r.firstError(errAnswer, errors.New(string(answer)))
		} else if err := r.smallCheck.check(answer); err != nil {
			// The answer is wrong, or answers another request: what
			// the connection says next cannot be trusted either.
			c.close()
			t.fail(errBadAnswer)
			r.firstError(errBadAnswer, err)
			continue
		} else {
			t.answer(r.phaseAt(), done.Sub(sent))
		}
		if r.sc.Reconnect {
			c.close()
		}
	}
}

// phaseAt returns the phase of an answer that arrived now.
func (r *run) phaseAt() phase { return phase(r.phase.Load()) }

// longClient sends the long request once, LongAfter into the run.
func (r *run) longClient(ctx context.Context) {
	if sleepUntil(ctx, r.start.Add(r.sc.LongAfter)) {
		return
	}
	c := r.newConn()
	defer c.close()
	stop := context.AfterFunc(ctx, c.interrupt)
	defer stop()
	// The phase changes before the request leaves, so that every small
	// answer that arrives after it counts as during.
	r.phase.Store(int32(during))
	sent := time.Now()
	r.mu.Lock()
	r.long.sent = sent
	r.events = append(r.events, Event{Time: sent, Kind: LongSent, Detail: r.sc.Long})
	r.mu.Unlock()

	var answer []byte
	var refused bool
	err := c.dial(ctx)
	if err == nil {
		answer, refused, _, err = c.ask(r.longReq)
	}
	done := time.Now()
	if ctx.Err() != nil || !done.Before(r.end) {
		return // unanswered when the run ended
	}
	r.phase.Store(int32(after))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.long.ended = done
	switch {
	case err != nil:
		r.long.err = err.Error()
		r.events = append(r.events, Event{Time: done, Kind: LongFailed, Latency: done.Sub(sent), Detail: r.long.err})
	case refused:
		r.long.answer, r.long.refused = string(answer), true
		r.events = append(r.events, Event{Time: done, Kind: LongFailed, Latency: done.Sub(sent), Detail: "refused: " + r.long.answer})
	default:
		r.long.answer, r.long.event = string(answer), len(r.events)
		r.events = append(r.events, Event{Time: done, Kind: LongAnswered, Latency: done.Sub(sent), Detail: r.long.answer})
	}
}

// checkLong checks the long request's answer, once the run is over: a
// wrong one makes the long request failed.
func (r *run) checkLong() {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := &r.long
	if l.ended.IsZero() || l.err != "" || l.refused {
		return
	}
	if err := r.longCheck.check([]byte(l.answer)); err != nil {
		l.err = errKindNames[errBadAnswer] + ": " + err.Error()
		ev := &r.events[l.event]
		ev.Kind, ev.Detail = LongFailed, l.err
	}
}

// conn is a client's connection, dialled on demand and closed on error.
type conn struct {
	addr  string
	end   time.Time
	codec wire.ClientCodec
	// in holds what the server sent and the codec has not decoded yet,
	// in[from:to].
	in       []byte
	from, to int

	mu          sync.Mutex // guards nc against interrupt
	nc          net.Conn
	interrupted bool
}

// Sizes of a client's input buffer: it grows for a long answer, up to
// maxAnswer.
const (
	answerBuffer = 4096
	maxAnswer    = 1 << 20
)

func (r *run) newConn() *conn {
	codec, _ := newClientCodec(r.sc.Protocol) // checked by WithDefaults
	return &conn{addr: r.sc.Addr, end: r.end, codec: codec, in: make([]byte, answerBuffer)}
}

// dial connects, unless the connection is open.
func (c *conn) dial(ctx context.Context) error {
	if c.nc != nil {
		return nil
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	// Every wait of the run ends with the run.
	nc.SetDeadline(c.end)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.interrupted {
		nc.Close()
		return context.Canceled
	}
	c.nc = nc
	c.from, c.to = 0, 0
	return nil
}

// ask sends one request and reads its answer, which is valid until the
// next ask; refused is true for an error answer. On error, or when the
// server says it closes, the connection is closed.
func (c *conn) ask(request []byte) (answer []byte, refused bool, kind errKind, err error) {
	if _, err := c.nc.Write(request); err != nil {
		c.close()
		return nil, false, errWrite, err
	}
	a, err := c.read()
	if err != nil {
		c.close()
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return nil, false, errClosed, fmt.Errorf("the server closed the connection")
		case errors.Is(err, wire.ErrMalformed), errors.Is(err, errAnswerTooLong):
			return nil, false, errBadAnswer, err
		}
		return nil, false, errRead, err
	}
	if a.Close {
		c.close()
	}
	return a.Body, a.Refused, 0, nil
}

// errAnswerTooLong is the error of an answer over maxAnswer bytes.
var errAnswerTooLong = fmt.Errorf("answer longer than %d bytes", maxAnswer)

// read reads until the codec finds an answer, and returns it.
func (c *conn) read() (wire.Answer, error) {
	for {
		n, a, err := c.codec.DecodeAnswer(c.in[c.from:c.to])
		if err != nil || n > 0 {
			c.from += n
			return a, err
		}
		switch {
		case c.from > 0:
			c.to = copy(c.in, c.in[c.from:c.to])
			c.from = 0
		case c.to == len(c.in) && len(c.in) >= maxAnswer:
			return wire.Answer{}, errAnswerTooLong
		case c.to == len(c.in):
			c.in = append(c.in, make([]byte, len(c.in))...)
		}
		k, err := c.nc.Read(c.in[c.to:])
		c.to += k
		if err != nil {
			if errors.Is(err, io.EOF) && c.to > c.from {
				err = io.ErrUnexpectedEOF
			}
			return wire.Answer{}, err
		}
	}
}

func (c *conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nc != nil {
		c.nc.Close()
		c.nc = nil
	}
}

// interrupt ends any wait on the connection, for a run cancelled early.
func (c *conn) interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.interrupted = true
	if c.nc != nil {
		c.nc.SetDeadline(aLongTimeAgo)
	}
}

var aLongTimeAgo = time.Unix(1, 0)
