package loadtest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadingRefusesImpossibleFiguresInOneLine(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	good := func() *Result {
		r := &Result{Scenario: Scenario{Small: "1", Duration: 2 * time.Second, Interval: time.Second}, Start: t0, End: t0.Add(2 * time.Second)}
		for i := range 2 {
			start := t0.Add(time.Duration(i) * time.Second)
			r.Intervals = append(r.Intervals, Interval{Start: start, End: start.Add(time.Second), Answers: 100})
		}
		return r
	}
	for want, craft := range map[string]func(r *Result){
		"intervals[1].answers is -179734, which no run measures":                  func(r *Result) { r.Intervals[1].Answers = -179734 },
		"intervals[0].answers is 1152921504606846976, which no run measures":      func(r *Result) { r.Intervals[0].Answers = 1 << 60 },
		"intervals[0] counts 100000002 answers and 0 errors in 1s, more than any": func(r *Result) { r.Intervals[0].Answers = 1e8 + 2 },
		"intervals[1] ends before it starts":                                      func(r *Result) { r.Intervals[1].End = r.Intervals[1].Start.Add(-time.Second) },
		"intervals[1] starts before intervals[0]: intervals must be in order":     func(r *Result) { r.Intervals[1].Start = t0.Add(-time.Second) },
		"intervals[0].latency.p99 is -1ms, which no run measures":                 func(r *Result) { r.Intervals[0].Latency.P99 = -time.Millisecond },
		"summary.before is -5, which no run measures":                             func(r *Result) { r.Summary.Before = -5 },
		"summary.errors_by_kind[read] is -1, which no run measures":               func(r *Result) { r.Summary.ErrorsByKind = map[string]int{"read": -1} },
		"scenario.interval is -1s, which no run measures":                         func(r *Result) { r.Scenario.Interval = -time.Second },
		"scenario.interval is 0s; it must be positive":                            func(r *Result) { r.Scenario.Interval = 0 },
		"end 2026-12-01T11:59:59Z is before start 2026-12-01T12:00:00Z":           func(r *Result) { r.End = t0.Add(-time.Second) },
		"intervals[0].server_cpu is -2, which no run measures":                    func(r *Result) { r.Intervals[0].ServerCPU = -2 },
	} {
		r := good()
		craft(r)
		var buf bytes.Buffer
		require.NoError(t, r.WriteJSON(&buf))
		_, err := ReadJSON(&buf)
		if assert.Error(t, err, want) {
			assert.Contains(t, err.Error(), want)
			assert.NotContains(t, err.Error(), "\n", "one line")
		}

		cmp := &Comparison{Scenario: r.Scenario, Rows: []Row{{Strategy: "perconn", Before: 100}}, Results: []*Result{r}}
		buf.Reset()
		require.NoError(t, cmp.WriteJSON(&buf))
		_, err = ReadComparisonJSON(&buf)
		if assert.Error(t, err, want) {
			assert.True(t, strings.HasPrefix(err.Error(), "loadtest: reading a comparison: results[0]: "+want), err.Error())
		}
	}
	r := good()
	r.Intervals[0].ServerCPU, r.Intervals[0].GeneratorCPU = -1, -1 // unknown
	var buf bytes.Buffer
	require.NoError(t, r.WriteJSON(&buf))
	_, err := ReadJSON(&buf)
	assert.NoError(t, err, "a CPU figure of -1 means unknown")

	cmp := &Comparison{Scenario: r.Scenario, Rows: []Row{{Strategy: "perconn", Before: 100, Errors: -3}}}
	buf.Reset()
	require.NoError(t, cmp.WriteJSON(&buf))
	_, err = ReadComparisonJSON(&buf)
	assert.EqualError(t, err, "loadtest: reading a comparison: rows[0].errors is -3, which no run measures")
}
