package loadtest

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/internal/wire"

	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

func TestPercentilesMatchSortedSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	samples := make([]time.Duration, 20000)
	for i := range samples {
		// Log-uniform from 5 µs to 500 ms: loopback answers and stalls.
		samples[i] = time.Duration(5e3 * math.Pow(1e5, rng.Float64()))
	}
	h := newHistogram()
	for _, s := range samples {
		recordLatency(h, s)
	}
	got := percentiles(h)
	slices.Sort(samples)
	exact := func(q float64) time.Duration {
		// The smallest sample with at least q% of the samples at or below it.
		i := int(math.Ceil(q/100*float64(len(samples)))) - 1
		return samples[i].Truncate(time.Microsecond)
	}
	near := func(name string, want, got time.Duration) {
		tolerance := time.Duration(float64(want)*0.001) + time.Microsecond
		assert.InDelta(t, float64(want), float64(got), float64(tolerance), "%s: want %v, got %v", name, want, got)
	}
	near("p50", exact(50), got.P50)
	near("p90", exact(90), got.P90)
	near("p99", exact(99), got.P99)
	near("p99.9", exact(99.9), got.P999)
	near("max", samples[len(samples)-1].Truncate(time.Microsecond), got.Max)
	assert.Equal(t, Percentiles{}, percentiles(newHistogram()), "no samples, no percentiles")
}

func TestTallyLosesNothingAcrossSwaps(t *testing.T) {
	const n = 200000
	tl := newTally()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			if i%100 == 0 {
				tl.fail(errRead)
			}
			tl.answer(during, time.Duration(i%1000)*time.Microsecond)
		}
	})
	answers, errs, recorded := 0, 0, int64(0)
	collect := func() {
		b := tl.swap()
		answers += b.answers[during]
		errs += b.errors[errRead]
		recorded += b.hist.TotalCount()
		tl.release(b)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		collect()
	}
	collect()
	assert.Equal(t, n, answers)
	assert.Equal(t, n/100, errs)
	assert.Equal(t, int64(n), recorded)
}

func TestRunMarksTheLongRequestAndIntervals(t *testing.T) {
	srv := startFake(t, "answer")
	sc := Scenario{Addr: srv.addr(), Clients: 2, Long: "long", LongAfter: 200 * time.Millisecond, Duration: time.Second, Interval: 50 * time.Millisecond}
	released := false
	var monitored []Interval
	res, err := Run(context.Background(), sc, func(iv Interval, events []Event) {
		monitored = append(monitored, iv)
		// Hold the long request for a whole interval, then let it go.
		if iv.LongInFlight && !released {
			released = true
			close(srv.release)
		}
	})
	require.NoError(t, err)
	assert.Equal(t, res.Intervals, monitored, "the monitor saw every interval as it closed")

	require.Len(t, res.Intervals, 20)
	assert.Equal(t, res.Start, res.Intervals[0].Start)
	assert.Equal(t, res.End, res.Intervals[19].End)
	for i := 1; i < len(res.Intervals); i++ {
		assert.Equal(t, res.Intervals[i-1].End, res.Intervals[i].Start, "intervals are contiguous")
	}

	var sent, answered *Event
	for i, e := range res.Events {
		switch e.Kind {
		case LongSent:
			sent = &res.Events[i]
		case LongAnswered:
			answered = &res.Events[i]
		}
	}
	require.NotNil(t, sent)
	require.NotNil(t, answered)
	assert.Equal(t, "long-done", answered.Detail)
	assert.Equal(t, answered.Time.Sub(sent.Time), answered.Latency)
	assert.GreaterOrEqual(t, sent.Time.Sub(res.Start), sc.LongAfter)

	total := 0
	for _, iv := range res.Intervals {
		total += iv.Answers
		overlaps := sent.Time.Before(iv.End) && answered.Time.After(iv.Start)
		assert.Equal(t, overlaps, iv.LongInFlight, "interval at %v", iv.Start.Sub(res.Start))
	}
	s := res.Summary
	assert.Equal(t, total, s.Answers)
	assert.True(t, s.LongSent)
	assert.True(t, s.LongAnswered)
	assert.Equal(t, answered.Latency, s.LongLatency)
	assert.Positive(t, s.Before)
	assert.Positive(t, s.During, "the fake server answers small requests while it holds the long one")
	assert.Positive(t, s.After)
	assert.InDelta(t, s.During/s.Before, s.Kept, 1e-9)
	assert.Zero(t, s.Errors)
	assert.False(t, s.NoDuring || s.NoAfter, "both windows were")
}

func TestRunAgainstAServerThatStalls(t *testing.T) {
	srv := startFake(t, "stall")
	res, err := Run(context.Background(), Scenario{Addr: srv.addr(), Duration: 300 * time.Millisecond, MaxDuration: 400 * time.Millisecond, Interval: 50 * time.Millisecond, LongAfter: 100 * time.Millisecond}, nil)
	require.NoError(t, err)
	require.Len(t, res.Intervals, 8, "the run waited for the long request until MaxDuration")
	for _, iv := range res.Intervals {
		assert.Zero(t, iv.Answers)
		assert.Zero(t, iv.Errors, "a request still waiting when the run ends is not an error")
	}
	assert.True(t, res.Summary.LongSent)
	assert.False(t, res.Summary.LongAnswered)
	assert.Zero(t, res.Summary.Kept)
	assert.False(t, res.Summary.NoDuring)
	assert.True(t, res.Summary.NoAfter, "the long request never ended, so there was no after")
	assert.Equal(t, "the long request was not answered within 400ms, the longest run allowed: allow a longer one (MaxDuration), run fewer servers at once, or use a quieter machine", res.Summary.KeptMissing)
}

func TestARunWaitsForItsLongRequestAndAnAfterWindow(t *testing.T) {
	srv := startFake(t, "answer")
	const interval = 50 * time.Millisecond
	sc := Scenario{Addr: srv.addr(), Duration: 200 * time.Millisecond, MaxDuration: time.Minute, Interval: interval, LongAfter: 100 * time.Millisecond, Long: "long"}
	var once sync.Once
	var planned time.Time // the monitor's goroutine's
	res, err := Run(context.Background(), sc, func(iv Interval, _ []Event) {
		if planned.IsZero() {
			planned = iv.Start.Add(sc.Duration)
		}
		if !iv.End.Before(planned) {
			once.Do(func() { close(srv.release) })
		}
	})
	require.NoError(t, err)
	s := res.Summary
	require.True(t, s.LongAnswered, s.KeptMissing)
	assert.Positive(t, s.Kept)
	var answered time.Time
	for _, e := range res.Events {
		if e.Kind == LongAnswered {
			answered = e.Time
		}
	}
	assert.False(t, answered.Before(res.Start.Add(sc.Duration)), "the long request was answered after the planned end")
	assert.GreaterOrEqual(t, res.End.Sub(answered), sc.LongAfter, "an after window as long as the before window")
	assert.Less(t, res.End.Sub(answered), sc.LongAfter+2*interval, "and the run ended once it had passed")
	assert.Positive(t, s.After)
	assert.False(t, s.NoAfter)
}

func TestRunAgainstAServerThatCloses(t *testing.T) {
	srv := startFake(t, "close")
	res, err := Run(context.Background(), Scenario{Addr: srv.addr(), Duration: 200 * time.Millisecond, Interval: 50 * time.Millisecond, LongAfter: -1}, nil)
	require.NoError(t, err)
	s := res.Summary
	assert.Zero(t, s.Answers)
	assert.Positive(t, s.Errors)
	var kinds []string
	for k := range s.ErrorsByKind {
		kinds = append(kinds, k)
	}
	assert.Subset(t, []string{"closed", "read", "write"}, kinds)
	assert.True(t, s.NoDuring && s.NoAfter, "no long request, no window but before")
	require.NotEmpty(t, res.Events)
	assert.Equal(t, FirstError, res.Events[0].Kind)
}

func TestRunAgainstAnAddressThatRefuses(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	res, err := Run(context.Background(), Scenario{Addr: addr, Duration: 200 * time.Millisecond, Interval: 50 * time.Millisecond, LongAfter: 50 * time.Millisecond}, nil)
	assert.Nil(t, res, "no run")
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Addr", fe.Field)
	assert.EqualError(t, err, "loadtest: nothing listens on Addr "+addr+": start the server, or give the address it listens on")
	_, err = Run(context.Background(), Scenario{Addr: "nonsense"}, nil)
	assert.ErrorContains(t, err, `cannot connect to Addr "nonsense": dial tcp: address nonsense: missing port in address`)
}

func TestRunCountsConnectErrorsOnceItHasBegun(t *testing.T) {
	srv := startFake(t, "answer")
	addr := srv.addr()
	var once sync.Once
	res, err := Run(context.Background(), Scenario{Addr: addr, Clients: 1, Reconnect: true, Duration: 300 * time.Millisecond, Interval: 50 * time.Millisecond, LongAfter: -1},
		func(Interval, []Event) { once.Do(srv.stop) }) // the server goes away after the first interval
	require.NoError(t, err)
	assert.Positive(t, res.Summary.Answers)
	assert.Positive(t, res.Summary.ErrorsByKind["connect"])
	var details []string
	for _, e := range res.Events {
		details = append(details, e.Detail)
	}
	assert.Contains(t, strings.Join(details, "\n"), "connect: dial tcp "+addr)
}

func TestRunCountsErrorAnswers(t *testing.T) {
	srv := startFake(t, "answer")
	sc := Scenario{Addr: srv.addr(), Small: "bad", Clients: 1, Duration: 100 * time.Millisecond, Interval: 50 * time.Millisecond, LongAfter: -1}
	_, err := Run(context.Background(), sc, nil)
	assert.EqualError(t, err, `loadtest: the server refuses the small request Small "bad": ERR bad request`, "the probe's answer")

	srv = startFakeAfterProbe(t, "answer") // it refuses once the run has begun
	sc.Addr = srv.addr()
	res, err := Run(context.Background(), sc, nil)
	require.NoError(t, err)
	assert.Zero(t, res.Summary.Answers)
	assert.Equal(t, res.Summary.Errors, res.Summary.ErrorsByKind["err-answer"])
	assert.Positive(t, res.Summary.Errors)
	assert.Equal(t, "err-answer: ERR bad request", res.Events[0].Detail)
}

func TestRunCancelledEarlyReturnsThePartialResult(t *testing.T) {
	srv := startFake(t, "answer")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := 0
	res, err := Run(ctx, Scenario{Addr: srv.addr(), Duration: time.Minute, Interval: 20 * time.Millisecond, LongAfter: -1}, func(Interval, []Event) {
		seen++
		if seen == 3 {
			cancel()
		}
	})
	assert.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, res)
	assert.GreaterOrEqual(t, len(res.Intervals), 3)
	assert.Less(t, res.End.Sub(res.Start), time.Minute)
	assert.Positive(t, res.Summary.Answers)
}

func TestWarmupIsLeftOutOfTheSummary(t *testing.T) {
	srv := startFake(t, "answer")
	res, err := Run(context.Background(), Scenario{Addr: srv.addr(), Duration: 300 * time.Millisecond, Interval: 50 * time.Millisecond, Warmup: 100 * time.Millisecond, LongAfter: -1}, nil)
	require.NoError(t, err)
	counted := 0
	for i, iv := range res.Intervals {
		assert.Equal(t, i < 2, iv.Warmup, "interval %d", i)
		if !iv.Warmup {
			counted += iv.Answers
		}
	}
	assert.Equal(t, counted, res.Summary.Answers)
	assert.Positive(t, res.Intervals[0].Answers, "warm-up intervals are still reported")
}

func TestOpenLoopKeepsToItsSchedule(t *testing.T) {
	srv := startFake(t, "answer")
	sc := Scenario{Addr: srv.addr(), Clients: 2, Rate: 200, Duration: 500 * time.Millisecond, Interval: 100 * time.Millisecond, LongAfter: -1}
	res, err := Run(context.Background(), sc, nil)
	require.NoError(t, err)
	// The schedule allows one request per client every 10 ms: at most
	// 100 within the run, however fast the server.
	assert.LessOrEqual(t, res.Summary.Answers, 100+sc.Clients)
	assert.Greater(t, res.Summary.Answers, 25, "a fast server keeps up with 200/s")
}

func TestCountsAgreeWithTheServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &server.Server{Strategy: strategy.PerConn(), Logger: discardLogger}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	res, err := Run(context.Background(), Scenario{Addr: l.Addr().String(), Duration: 300 * time.Millisecond, Interval: 100 * time.Millisecond, Long: "100", LongAfter: 100 * time.Millisecond}, nil)
	require.NoError(t, err)
	require.NoError(t, srv.Shutdown(context.Background()))
	require.ErrorIs(t, <-served, server.ErrServerClosed)

	counted := res.Summary.Answers + 2 // and the long request, and the probe
	st := srv.Stats()
	// The server also answered what was in flight when the run ended, at
	// most one request per client, which the run does not count; or, if
	// such a request had run the watch delay as its client left (a busy
	// machine), cancelled it.
	assert.GreaterOrEqual(t, int(st.Answered), counted)
	assert.LessOrEqual(t, int(st.Answered+st.Errors+st.Lost), counted+res.Scenario.Clients)
	assert.Equal(t, st.Requests, st.Answered+st.Errors+st.Lost)
	assert.Equal(t, "541", res.Summary.LongAnswer)
}

func TestScenarioIsChecked(t *testing.T) {
	cases := map[string]Scenario{
		"Addr is empty":                                        {},
		"Clients is -1":                                        {Addr: "x", Clients: -1},
		"Interval is 1ms; it must be at least":                 {Addr: "x", Interval: time.Millisecond},
		"is longer than Duration":                              {Addr: "x", Interval: 2 * time.Second, Duration: time.Second},
		"Warmup is 10s":                                        {Addr: "x", Warmup: 10 * time.Second},
		"MaxDuration 5s is shorter than Duration 10s":          {Addr: "x", MaxDuration: 5 * time.Second},
		"falls inside the Warmup of 3s: set a later LongAfter": {Addr: "x", Warmup: 3 * time.Second},
		"is not before the end of the run":                     {Addr: "x", LongAfter: 20 * time.Second},
		"Rate is -1":                                           {Addr: "x", Rate: -1},
		`Small "1\n2" holds a line break`:                      {Addr: "x", Small: "1\n2"},
		`unknown protocol "smtp"`:                              {Addr: "x", Protocol: "smtp"},
	}
	for want, sc := range cases {
		_, err := Run(context.Background(), sc, nil)
		assert.ErrorContains(t, err, want)
	}
}

func TestScenarioDefaultsScaleWithAShortRun(t *testing.T) {
	sc, err := Scenario{Addr: "x", Duration: time.Second}.WithDefaults()
	require.NoError(t, err)
	assert.Equal(t, 333*time.Millisecond, sc.LongAfter, "the long request a third of the way in, to the millisecond")
	assert.Equal(t, 100*time.Millisecond, sc.Interval)
	sc, err = Scenario{Addr: "x"}.WithDefaults()
	require.NoError(t, err)
	assert.Equal(t, DefaultLongAfter, sc.LongAfter)
	assert.Equal(t, DefaultInterval, sc.Interval)
	sc, err = Scenario{Addr: "x", Duration: 20 * time.Millisecond}.WithDefaults()
	require.NoError(t, err)
	assert.Equal(t, MinInterval, sc.Interval)
}

func TestResultRoundTripsThroughJSONAndWritesCSV(t *testing.T) {
	srv := startFake(t, "answer")
	close(srv.release)
	res, err := Run(context.Background(), Scenario{Addr: srv.addr(), Duration: 200 * time.Millisecond, Interval: 50 * time.Millisecond, Long: "long", LongAfter: 50 * time.Millisecond}, nil)
	require.NoError(t, err)

	var first bytes.Buffer
	require.NoError(t, res.WriteJSON(&first))
	back, err := ReadJSON(bytes.NewReader(first.Bytes()))
	require.NoError(t, err)
	var second bytes.Buffer
	require.NoError(t, back.WriteJSON(&second))
	assert.Equal(t, first.String(), second.String())
	assert.Equal(t, res.Summary, back.Summary)
	assert.Len(t, back.Intervals, 4)

	_, err = ReadJSON(strings.NewReader(`{"scenario": {}, "surprise": 1}`))
	assert.ErrorContains(t, err, "unknown field")

	var out bytes.Buffer
	require.NoError(t, res.WriteCSV(&out))
	rows, err := csv.NewReader(&out).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 5)
	assert.Equal(t, csvHeader, rows[0])
	assert.Equal(t, "0.000", rows[1][1])
	assert.Equal(t, "0.050", rows[1][2])
	assert.Equal(t, res.Intervals[0].Start.Format(time.RFC3339Nano), rows[1][0])
}

func TestClientHotPathDoesNotAllocate(t *testing.T) {
	srv := startFake(t, "answer")
	c := &conn{at: endpoint{addr: srv.addr()}, end: time.Now().Add(testkit.Bound), codec: wire.NewLineClient(), in: make([]byte, answerBuffer)}
	defer c.close()
	require.NoError(t, c.dial(context.Background()))
	tl := newTally()
	line := []byte("1\n")
	allocs := testing.AllocsPerRun(200, func() {
		sent := time.Now()
		a, err := c.ask(line)
		if err != nil || a.Refused || string(a.Body) != "2" {
			t.Fatalf("ask: %q, %v", a.Body, err)
		}
		tl.answer(before, time.Since(sent))
	})
	// The fake server runs in this process and allocates nothing per
	// request either, so any allocation here is the client's.
	assert.Zero(t, allocs)
}

func TestAFieldErrorNamesItsFieldsAsTheCallerNamesThem(t *testing.T) {
	_, err := Scenario{Addr: "x", LongAfter: 20 * time.Second}.WithDefaults()
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "LongAfter", fe.Field)
	flags := map[string]string{"LongAfter": "-after", "Duration": "-duration"}
	assert.Equal(t, "-after 20s is not before the end of the run at -duration 10s: set an earlier -after or a longer -duration",
		fe.Message(func(f string) string { return flags[f] }))
}

func TestReadingRefusesWhatWasNotSaved(t *testing.T) {
	for _, text := range []string{"{}", `{"scenario": {"clients": 4}}`} {
		_, err := ReadJSON(strings.NewReader(text))
		assert.ErrorContains(t, err, "it has no scenario or no figures", text)
		_, err = ReadComparisonJSON(strings.NewReader(text))
		assert.ErrorContains(t, err, "it has no scenario or no figures", text)
	}
}

func TestLittlesLawCountsTheRequestsInFlightBeforeTheLongOne(t *testing.T) {
	start := time.Unix(0, 0)
	iv := func(i, answers int, mean time.Duration) Interval {
		return Interval{Start: start.Add(time.Duration(i) * time.Second), End: start.Add(time.Duration(i+1) * time.Second),
			Answers: answers, Latency: Percentiles{Mean: mean}}
	}
	ivs := []Interval{iv(0, 1, time.Second), iv(1, 4000, time.Millisecond), iv(2, 2000, time.Millisecond), iv(3, 10, time.Second)}
	ivs[0].Warmup = true
	long := longState{sent: start.Add(3 * time.Second)}
	// 6000 answers in 2 s, 1 ms each: 3 in flight; the warm-up and the
	// interval of the long request are left out.
	assert.InDelta(t, 3, inFlight(ivs, long), 1e-9)
	// With no long request, the whole run: 6010 in 3 s, 16 s of latency.
	assert.InDelta(t, 16.0/3, inFlight(ivs, longState{}), 1e-9)
	assert.Zero(t, inFlight(ivs[:1], long), "nothing after the warm-up")
}

func TestLongsClientsSendTheLongRequestBackToBack(t *testing.T) {
	srv := startFake(t, "answer")
	close(srv.release) // every long request is answered at once
	sc := Scenario{Addr: srv.addr(), Clients: 1, Long: "long", LongAfter: -1, Longs: 2, Duration: 300 * time.Millisecond, Interval: 50 * time.Millisecond}
	res, err := Run(context.Background(), sc, nil)
	require.NoError(t, err)
	srv.mu.Lock()
	conns, written := len(srv.longConns), 0
	for _, n := range srv.longConns {
		written += n
	}
	srv.mu.Unlock()
	assert.Equal(t, 2, conns, "a connection each")
	s := res.Summary
	assert.Positive(t, s.LongsAnswered)
	assert.LessOrEqual(t, s.LongsAnswered, written)
	assert.GreaterOrEqual(t, s.LongsAnswered, written-2, "but the answers each client had not read when the run ended")
	assert.Empty(t, s.LongsError)
	assert.False(t, s.LongSent, "no single long request")
	assert.Positive(t, s.Answers, "and the small requests go on")

	_, err = Scenario{Addr: srv.addr(), Longs: -1}.WithDefaults()
	assert.ErrorContains(t, err, "Longs is -1")
}

func TestARunStartsAtItsStartTimeAndItsIntervalsCountFromIt(t *testing.T) {
	srv := startFake(t, "answer")
	at := time.Now().Add(150 * time.Millisecond)
	sc := Scenario{Addr: srv.addr(), Clients: 1, LongAfter: -1, Duration: 200 * time.Millisecond, Interval: 50 * time.Millisecond, StartAt: at}
	res, err := Run(context.Background(), sc, nil)
	require.NoError(t, err)
	assert.True(t, res.Start.Equal(at), "the run's start is the time given")
	require.NotEmpty(t, res.Intervals)
	for i, iv := range res.Intervals {
		assert.True(t, iv.Start.Equal(at.Add(time.Duration(i)*sc.Interval)), "interval %d lines up", i)
	}

	sc.StartAt = time.Now().Add(-time.Second)
	_, err = Run(context.Background(), sc, nil)
	assert.ErrorContains(t, err, "in the past")
	sc.StartAt = time.Now().Add(25 * time.Hour)
	_, err = Run(context.Background(), sc, nil)
	assert.ErrorContains(t, err, "more than 24h0m0s")
}
