package loadtest

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTheHlogReadsBackWithHdrHistogramsOwnReader(t *testing.T) {
	srv := startFake(t, "answer")
	close(srv.release)
	sc := Scenario{Addr: srv.addr(), Clients: 2, LongAfter: -1, Duration: 300 * time.Millisecond, Interval: 50 * time.Millisecond}
	res, err := Run(context.Background(), sc, nil)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, res.WriteHlog(&b, "gen-1"))

	lr := hdr.NewHistogramLogReader(&b)
	var got []*hdr.Histogram
	for {
		h, err := lr.NextIntervalHistogram()
		require.NoError(t, err)
		if h == nil {
			break
		}
		got = append(got, h)
	}
	require.Len(t, got, len(res.Intervals))
	for i, h := range got {
		iv := res.Intervals[i]
		assert.Equal(t, int64(iv.Answers), h.TotalCount(), "interval %d: every answer", i)
		assert.Equal(t, "gen-1", h.Tag())
		if iv.Answers > 0 {
			p99 := time.Duration(h.ValueAtQuantile(99))
			assert.InDelta(t, float64(iv.Latency.P99), float64(p99), 0.002*float64(iv.Latency.P99)+1000, "interval %d: p99 in ns", i)
		}
	}
}

// fixedResult is a result of two intervals of known latencies, at a
// known time, for the golden file.
func fixedResult(t *testing.T) *Result {
	t.Helper()
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	r := &Result{Scenario: Scenario{Addr: "127.0.0.1:25000", Clients: 4, Small: "1"}, Start: start, End: start.Add(2 * time.Second)}
	for i, latencies := range [][]time.Duration{{100 * time.Microsecond, 200 * time.Microsecond}, {5 * time.Millisecond}} {
		h := newHistogram()
		for _, d := range latencies {
			recordLatency(h, d)
		}
		enc, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
		require.NoError(t, err)
		r.Intervals = append(r.Intervals, Interval{Start: start.Add(time.Duration(i) * time.Second), End: start.Add(time.Duration(i+1) * time.Second), Answers: len(latencies), Histogram: enc})
	}
	return r
}

func TestTheHlogsHeaderAndTagsAreHdrHistograms(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, fixedResult(t).WriteHlog(&b, "gen-1"))
	if os.Getenv("PRIMETIME_UPDATE_GOLDEN") != "" {
		require.NoError(t, os.WriteFile("testdata/run.hlog", b.Bytes(), 0o644))
	}
	golden, err := os.ReadFile("testdata/run.hlog")
	require.NoError(t, err, "set PRIMETIME_UPDATE_GOLDEN=1 to write it")
	assert.Equal(t, string(golden), b.String())
	lines := strings.Split(b.String(), "\n")
	assert.Equal(t, `#[primetime load against 127.0.0.1:25000: 4 clients send "1"]`, lines[0])
	assert.Equal(t, "#[Histogram log format version 1.3]", lines[1])
	assert.True(t, strings.HasPrefix(lines[2], "#[StartTime: 1796126400 (seconds since epoch), 2026-12-01T12:00:00Z]"), lines[2])
	assert.True(t, strings.HasPrefix(lines[5], "Tag=gen-1,0.000000,1.000000,0.200"), lines[5])
	assert.True(t, strings.HasPrefix(lines[6], "Tag=gen-1,1.000000,1.000000,5.00"), lines[6])

	assert.ErrorContains(t, fixedResult(t).WriteHlog(&b, "gen 1"), "holds a comma, a space or a line break")
	old := fixedResult(t)
	old.Intervals[1].Histogram = nil
	assert.ErrorContains(t, old.WriteHlog(&b, ""), "saved before they were kept")
}
