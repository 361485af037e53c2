package lab

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/compare"
)

// A session is one server's run: its clients, and the long requests the
// page sent it.
type session struct {
	settings Settings
	srv      *compare.Server
	label    string
	hub      *hub
	ctx      context.Context // ends when the session stops
	cancel   context.CancelFunc
	done     chan struct{} // closed once the run has ended and the server stopped

	// res and err are the run's, set before done closes.
	res *loadtest.Result
	err error

	mu        sync.Mutex // guards what follows
	intervals []loadtest.Interval
	longs     []*longRun
	inFlight  bool
	lanes     string // the timeline of the latest long request, if any
}

// A longRun is one long request, and the flow while it ran.
type longRun struct {
	sent, answered time.Time
	err            string
	// figures, once the interval after its answer has closed.
	measured             bool
	before, during, kept float64
	keptMissing          string
}

// run plays sc against the server until ctx ends, then stops the server.
func (ss *session) run(ctx context.Context, sc loadtest.Scenario) {
	defer close(ss.done)
	res, err := loadtest.Run(ctx, sc, ss.interval)
	if errors.Is(err, context.Canceled) {
		err = nil // stopped, as asked
	}
	ss.res, ss.err = res, errors.Join(err, ss.srv.Stop())
}

// interval records an interval as it closes, pushes it, and measures the
// long requests answered before its end.
func (ss *session) interval(iv loadtest.Interval, _ []loadtest.Event) {
	ss.mu.Lock()
	ss.intervals = append(ss.intervals, iv)
	var measured []*longRun
	for _, l := range ss.longs {
		if !l.measured && !l.answered.IsZero() && !iv.End.Before(l.answered) {
			l.measure(ss.intervals)
			measured = append(measured, l)
		}
	}
	ss.mu.Unlock()
	d := iv.End.Sub(iv.Start).Seconds()
	ss.hub.publish(Event{Type: "interval", Data: map[string]any{
		"end": iv.End.UnixMilli(), "rate": float64(iv.Answers) / d, "errors": iv.Errors,
		"p99": iv.Latency.P99.Seconds(), "long": iv.LongInFlight,
	}})
	for _, l := range measured {
		data := map[string]any{"latency": l.answered.Sub(l.sent).Seconds(), "before": l.before, "during": l.during}
		if l.keptMissing == "" {
			data["kept"] = l.kept
		} else {
			data["missing"] = l.keptMissing
		}
		ss.hub.publish(Event{Type: "kept", Data: data})
	}
}

// measure sets the long request's figures from the intervals: the rate
// over the second before it was sent, the rate while it ran (each interval
// weighed by its overlap with the flight), and kept, their ratio.
func (l *longRun) measure(ivs []loadtest.Interval) {
	l.measured = true
	var beforeN, duringN float64
	var beforeD, duringD time.Duration
	for _, iv := range ivs {
		if !iv.End.After(l.sent) && iv.Start.After(l.sent.Add(-beforeWindow-time.Millisecond)) {
			beforeN += float64(iv.Answers)
			beforeD += iv.End.Sub(iv.Start)
		}
		from := max(iv.Start.UnixNano(), l.sent.UnixNano())
		to := min(iv.End.UnixNano(), l.answered.UnixNano())
		if to > from {
			overlap := time.Duration(to - from)
			duringN += float64(iv.Answers) * float64(overlap) / float64(iv.End.Sub(iv.Start))
			duringD += overlap
		}
	}
	switch {
	case beforeD == 0 || beforeN == 0:
		l.keptMissing = "no answers before the long request: send it once the clients run"
	case duringD == 0:
		l.keptMissing = "the long request was answered within no interval"
	default:
		l.before, l.during = beforeN/beforeD.Seconds(), duringN/duringD.Seconds()
		l.kept = l.during / l.before
	}
}

// sendLong sends the long request on a connection of its own, in a
// goroutine that wg owns; one at a time.
func (ss *session) sendLong(wg *sync.WaitGroup) error {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.inFlight {
		return ErrBusy
	}
	select {
	case <-ss.done:
		return ErrIdle
	default:
	}
	ss.inFlight = true
	l := &longRun{sent: time.Now()}
	ss.longs = append(ss.longs, l)
	ss.hub.publish(Event{Type: "long", Data: map[string]any{"sent": l.sent.UnixMilli(), "request": ss.srv.Long}})
	wg.Go(func() { ss.ask(l) })
	return nil
}

// ask asks the long request and records its answer, then has a Go server
// write its timeline around the request's arrival; it gives up when the
// session ends.
func (ss *session) ask(l *longRun) {
	answer, err := ss.askLong()
	ss.mu.Lock()
	l.answered = time.Now()
	if err != nil {
		l.err = err.Error()
		l.measured = true // nothing to measure
	}
	ss.mu.Unlock()
	data := map[string]any{"latency": l.answered.Sub(l.sent).Seconds(), "answer": answer}
	if err != nil {
		data["error"] = err.Error()
	}
	ss.hub.publish(Event{Type: "answered", Data: data})
	// The next long request waits for the timeline, whose recorder then
	// re-arms for it.
	path, traceErr := "", error(nil)
	if err == nil && ss.ctx.Err() == nil {
		path, traceErr = ss.srv.Trace()
	}
	ss.mu.Lock()
	ss.inFlight = false
	if path != "" && traceErr == nil {
		ss.lanes = path
	}
	n := len(ss.longs)
	ss.mu.Unlock()
	if path != "" && traceErr == nil {
		ss.hub.publish(Event{Type: "lanes", Data: map[string]any{"long": n}})
	}
}

// lanesRow returns the session's row with the timeline of its latest long
// request, and false without one.
func (ss *session) lanesRow() (loadtest.Row, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.lanes == "" {
		return loadtest.Row{}, false
	}
	row := ss.srv.Row
	row.Trace, row.Long = ss.lanes, ss.srv.Long
	return row, true
}

// askLong dials the server and asks the long request, in the line
// protocol the lab's servers speak; the session's end ends its waits.
func (ss *session) askLong() (string, error) {
	var d net.Dialer
	c, err := d.DialContext(ss.ctx, "tcp", ss.srv.Addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	unblock := context.AfterFunc(ss.ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer unblock()
	if _, err := c.Write([]byte(ss.srv.Long + "\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "ERR") {
		return "", errors.New(line)
	}
	return line, nil
}

// stop ends the run, waits for it and its server, and returns the
// section's row: the figures of its last measured long request.
func (ss *session) stop() (loadtest.Row, *loadtest.Result, error) {
	ss.cancel()
	<-ss.done
	ss.mu.Lock()
	defer ss.mu.Unlock()
	row := ss.srv.Row
	row.NoLong, row.KeptMissing = true, "no long request was answered"
	if ss.settings.Lanes && ss.srv.Row.Runtime == "" {
		row.Note = "its server recorded its timeline (the lab's lanes), which slows it"
	}
	for _, l := range ss.longs {
		if l.err != "" || l.answered.IsZero() {
			continue
		}
		row.NoLong, row.LongAnswered, row.LongLatency = false, true, l.answered.Sub(l.sent)
		row.Before, row.During, row.Kept, row.KeptMissing = l.before, l.during, l.kept, l.keptMissing
		if !l.measured {
			row.KeptMissing = "stopped before the interval after its answer closed"
		}
	}
	if ss.res != nil {
		row.Errors = ss.res.Summary.Errors
		row.P50, row.P99 = ss.res.Summary.Latency.P50, ss.res.Summary.Latency.P99
		// The run lasted until it was stopped: that is its duration.
		d := ss.res.End.Sub(ss.res.Start)
		ss.res.Scenario.Duration, ss.res.Scenario.MaxDuration = d, d
	}
	return row, ss.res, ss.err
}
