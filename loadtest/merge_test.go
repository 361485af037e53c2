package loadtest

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// part is a generator's run of three 1 s intervals from start, with the
// latencies given per interval; long says whether it sent the long
// request, in flight during the second interval.
func part(t *testing.T, start time.Time, latencies [][]time.Duration, long bool) *Result {
	t.Helper()
	r := &Result{Scenario: Scenario{Addr: "server:25000", Clients: 2, Small: "1", Long: "10000", Interval: time.Second},
		Start: start, End: start.Add(time.Duration(len(latencies)) * time.Second)}
	for i, ls := range latencies {
		h := newHistogram()
		for _, d := range ls {
			recordLatency(h, d)
		}
		enc, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
		require.NoError(t, err)
		s := start.Add(time.Duration(i) * time.Second)
		r.Intervals = append(r.Intervals, Interval{Start: s, End: s.Add(time.Second), Answers: len(ls), Errors: i, Histogram: enc,
			Latency: percentiles(h), LongInFlight: long && i == 1})
	}
	if long {
		r.Summary.LongSent, r.Summary.LongAnswered, r.Summary.LongLatency = true, true, time.Second
		r.Events = []Event{{Time: start.Add(time.Second), Kind: LongSent}, {Time: start.Add(2 * time.Second), Kind: LongAnswered}}
	}
	return r
}

func ms(n ...int) []time.Duration {
	var ds []time.Duration
	for _, v := range n {
		ds = append(ds, time.Duration(v)*time.Millisecond)
	}
	return ds
}

func TestMergeAddsTheIntervalsAndTheirHistogramsExactly(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	a := part(t, t0, [][]time.Duration{ms(1, 2, 3), ms(10), ms(1, 1)}, true)
	b := part(t, t0.Add(2*time.Millisecond), [][]time.Duration{ms(4, 5), ms(20, 30), ms(2)}, false) // 2 ms of skew
	c := part(t, t0, [][]time.Duration{ms(100), nil, ms(3, 3, 3)}, false)
	m, err := Merge(a, b, c)
	require.NoError(t, err)
	require.Len(t, m.Intervals, 3)
	for k, want := range [][]time.Duration{{1, 2, 3, 4, 5, 100}, {10, 20, 30}, {1, 1, 2, 3, 3, 3}} {
		iv := m.Intervals[k]
		assert.Equal(t, len(want), iv.Answers, "interval %d: the parts' answers summed", k)
		assert.Equal(t, 3*k, iv.Errors, "interval %d: and errors", k)
		all := newHistogram()
		for _, d := range want {
			recordLatency(all, d*time.Millisecond)
		}
		assert.Equal(t, percentiles(all), iv.Latency, "interval %d: the percentiles of all the parts' latencies", k)
		assert.True(t, iv.Start.Equal(t0.Add(time.Duration(k)*time.Second)))
	}
	assert.Equal(t, 6, m.Scenario.Clients)
	assert.Equal(t, 2*time.Millisecond, m.Parts[1].Skew)
	require.Len(t, m.Events, 2, "the long request once, from its generator")
	assert.True(t, m.Summary.LongAnswered)
	assert.Equal(t, 15, m.Summary.Answers)
	assert.InDelta(t, 6, m.Summary.Before, 1e-9)
	assert.InDelta(t, 3, m.Summary.During, 1e-9)
	assert.InDelta(t, 0.5, m.Summary.Kept, 1e-9)
	require.Len(t, m.Parts, 3)

	one, err := Merge(a)
	require.NoError(t, err)
	assert.Same(t, a, one, "a merge of one result is that result")
}

func TestMergeRefusesWhatItCannotAddUp(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	a := part(t, t0, [][]time.Duration{ms(1)}, false)
	other := func(f func(*Result)) *Result {
		r := part(t, t0, [][]time.Duration{ms(1)}, false)
		f(r)
		return r
	}
	for name, c := range map[string]struct {
		b    *Result
		want string
	}{
		"request":      {other(func(r *Result) { r.Scenario.Small = "2" }), "merge runs of one scenario"},
		"protocol":     {other(func(r *Result) { r.Scenario.Protocol = "http" }), `speaks "http"`},
		"interval":     {other(func(r *Result) { r.Scenario.Interval = 2 * time.Second }), "merge runs of one interval"},
		"apart":        {part(t, t0.Add(time.Hour), [][]time.Duration{ms(1)}, false), "do not overlap in time"},
		"old":          {other(func(r *Result) { r.Intervals[0].Histogram = nil }), "saved before they were kept"},
		"two longs":    {part(t, t0, [][]time.Duration{ms(1), ms(1)}, true), ""},
		"bad encoding": {other(func(r *Result) { r.Intervals[0].Histogram = []byte("HISTnope") }), "interval 0"},
	} {
		first := a
		if name == "two longs" {
			first = part(t, t0, [][]time.Duration{ms(1), ms(1)}, true)
			c.want = "both sent the long request"
		}
		_, err := Merge(first, c.b)
		assert.ErrorContains(t, err, c.want, name)
	}
	_, err := Merge()
	assert.Error(t, err)
}

// longRun is a generator's run of n intervals of 10 ms from start, each
// with the same latencies.
func longRun(t testing.TB, start time.Time, n int) *Result {
	h := newHistogram()
	for i := range 100 {
		recordLatency(h, time.Duration(i+1)*time.Millisecond)
	}
	enc, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	require.NoError(t, err)
	const iv = 10 * time.Millisecond
	r := &Result{Scenario: Scenario{Small: "1", Interval: iv, Duration: time.Duration(n) * iv}, Start: start, End: start.Add(time.Duration(n) * iv)}
	r.Intervals = make([]Interval, n)
	for i := range r.Intervals {
		s := start.Add(time.Duration(i) * iv)
		r.Intervals[i] = Interval{Start: s, End: s.Add(iv), Answers: 100, Histogram: enc}
	}
	return r
}

// TestMergeOfManyIntervalsAddsEveryOne merges runs of 1,000 intervals,
// one of them an interval late; BenchmarkMerge merges 20,000 and reports
// the memory.
func TestMergeOfManyIntervalsAddsEveryOne(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	m, err := Merge(longRun(t, t0, 1000), longRun(t, t0.Add(10*time.Millisecond), 1000))
	require.NoError(t, err)
	require.Len(t, m.Intervals, 1001)
	assert.Equal(t, 100, m.Intervals[0].Answers, "the first part alone")
	assert.Equal(t, 100, m.Intervals[1000].Answers, "the second part alone")
	for _, k := range []int{1, 500, 999} {
		assert.Equal(t, 200, m.Intervals[k].Answers)
		h, err := hdr.Decode(m.Intervals[k].Histogram)
		require.NoError(t, err)
		assert.Equal(t, int64(200), h.TotalCount())
	}
}

// BenchmarkMerge merges two runs of 20,000 intervals of 10 ms and reports
// the most heap it held, sampled every millisecond.
func BenchmarkMerge(b *testing.B) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	a, c := longRun(b, t0, 20000), longRun(b, t0, 20000)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop, peak := make(chan struct{}), make(chan uint64)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var most uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			most = max(most, sample[0].Value.Uint64())
			select {
			case <-stop:
				peak <- most
				return
			case <-tick.C:
			}
		}
	}()
	for b.Loop() {
		if _, err := Merge(a, c); err != nil {
			b.Fatal(err)
		}
	}
	close(stop)
	b.ReportMetric(float64(<-peak-before.HeapAlloc)/1e6, "peak-MB")
}
