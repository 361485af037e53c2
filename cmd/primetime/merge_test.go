package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/loadtest"
)

func readRun(t *testing.T, path string) *loadtest.Result {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	res, err := loadtest.ReadJSON(f)
	require.NoError(t, err)
	return res
}

func TestThreeGeneratorsStartedTogetherMergeExactly(t *testing.T) {
	addr, _, _ := startServe(t, "-strategy", "perconn")
	dir := t.TempDir()
	at := time.Now().Add(500 * time.Millisecond).Format(time.RFC3339Nano)
	var wg sync.WaitGroup
	codes := make([]int, 3)
	var outs [3]bytes.Buffer
	for i := range 3 {
		after := "-1s" // one generator sends the long request
		if i == 0 {
			after = "150ms"
		}
		wg.Go(func() {
			codes[i] = run(context.Background(), []string{"load", "-addr", addr, "-clients", "1", "-duration", "400ms", "-interval", "100ms",
				"-after", after, "-long", "2000", "-start-at", at, "-json", filepath.Join(dir, fmt.Sprintf("g%d.json", i))}, &outs[i], &outs[i])
		})
	}
	wg.Wait()
	for i, code := range codes {
		require.Equal(t, 0, code, outs[i].String())
	}
	files := []string{filepath.Join(dir, "g0.json"), filepath.Join(dir, "g1.json"), filepath.Join(dir, "g2.json")}
	var stdout, stderr bytes.Buffer
	// Flags before, between and after the files, as people type them.
	code := run(context.Background(), []string{"merge", "-json", filepath.Join(dir, "m.json"), files[0], files[1], "-hlog", filepath.Join(dir, "m.hlog"), files[2]}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	assert.Empty(t, stderr.String(), "no skew: the generators started together")

	merged := readRun(t, filepath.Join(dir, "m.json"))
	var parts []*loadtest.Result
	answers, errs := 0, 0
	for _, f := range files {
		p := readRun(t, f)
		parts = append(parts, p)
		answers, errs = answers+p.Summary.Answers, errs+p.Summary.Errors
		assert.True(t, p.Start.Equal(parts[0].Start), "the same start")
	}
	assert.Equal(t, answers, merged.Summary.Answers, "the sum of the parts")
	assert.Equal(t, errs, merged.Summary.Errors)
	// A generator that waits past its duration for the long answer, as on
	// a busy machine, has more intervals than the others: the merge spans
	// the longest part.
	longest := 0
	for _, p := range parts {
		longest = max(longest, len(p.Intervals))
	}
	require.Len(t, merged.Intervals, longest)
	for k, iv := range merged.Intervals {
		all := hdr.New(1, int64(10*time.Minute/time.Microsecond), 3)
		n := 0
		for _, p := range parts {
			if k >= len(p.Intervals) {
				continue // this part had ended
			}
			h, err := hdr.Decode(p.Intervals[k].Histogram)
			require.NoError(t, err)
			all.Merge(h)
			n += p.Intervals[k].Answers
		}
		assert.Equal(t, n, iv.Answers, "interval %d", k)
		if n > 0 {
			assert.Equal(t, time.Duration(all.ValueAtQuantile(99))*time.Microsecond, iv.Latency.P99, "interval %d: the p99 of all the parts' latencies", k)
		}
	}
	sent := 0
	for _, e := range merged.Events {
		if e.Kind == loadtest.LongSent {
			sent++
		}
	}
	assert.Equal(t, 1, sent, "the long request once")
	assert.Contains(t, stdout.String(), "small requests:")

	code = run(context.Background(), []string{"merge", files[0], filepath.Join(dir, "missing.json")}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	code = run(context.Background(), []string{"merge"}, &stdout, &stderr)
	assert.Equal(t, 2, code)
}
