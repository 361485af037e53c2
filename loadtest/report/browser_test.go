package report_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/loadtest/report"
)

// TestThePageDrawsItsChartsWhateverItsLatencies opens the page in Chromium
// with a smallest latency of 0.145 ms, whose log scale once began at 0.0967,
// just below a power of ten: uPlot's ticks then stepped past it and went on
// for a long time or, on a larger page, until the tab ran out of memory.
// The scale begins at a power of ten.
func TestThePageDrawsItsChartsWhateverItsLatencies(t *testing.T) {
	browser := proctest.Tool(t, "chromium")
	cmp := storedComparison()
	cmp.Results[0].Intervals[1].Latency.P99 = 145 * time.Microsecond
	var buf bytes.Buffer
	require.NoError(t, report.HTML(&buf, cmp))
	page := filepath.Join(t.TempDir(), "page.html")
	require.NoError(t, os.WriteFile(page, buf.Bytes(), 0o644))

	alloc, cancelAlloc := chromedp.NewExecAllocator(proctest.Context(t), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox)...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	// Two panels of two charts each, drawn once the page's thread answers
	// again: uPlot draws in a microtask after it makes a chart.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("file://"+page)))
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll(".panel .uplot").length === 4`))
	require.NoError(t, err)
	// Each panel's latency chart, its second, starts its scale at a power
	// of ten at or below the smallest latency over 1.5.
	floors, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`charts.filter((u, i) => i % 2 === 1).map(u => u.scales.y.min)`))
	require.NoError(t, err)
	require.Len(t, floors, 2)
	for _, floor := range floors {
		require.InDelta(t, 0.01, floor, 1e-12, "0.145 ms / 1.5 lies between 0.01 and 0.1")
	}
}
