package report_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/report"
)

// FuzzReport feeds every report what the readers make of any bytes: a
// crafted file is refused with an error, or drawn, never a panic.
func FuzzReport(f *testing.F) {
	var saved bytes.Buffer
	cmp := storedComparison()
	if err := cmp.WriteJSON(&saved); err != nil {
		f.Fatal(err)
	}
	f.Add(saved.Bytes())
	saved.Reset()
	if err := cmp.Results[0].WriteJSON(&saved); err != nil {
		f.Fatal(err)
	}
	f.Add(saved.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		if cmp, err := loadtest.ReadComparisonJSON(bytes.NewReader(data)); err == nil {
			report.Table(io.Discard, cmp)
			report.Chart(io.Discard, cmp)
			report.HTML(io.Discard, cmp)
			report.Diff(io.Discard, cmp, cmp)
		}
		if res, err := loadtest.ReadJSON(bytes.NewReader(data)); err == nil {
			report.Summary(io.Discard, res)
			report.RunHTML(io.Discard, res)
		}
	})
}

// FuzzReportFigures puts any figures in a saved comparison, as a crafted
// file would, and draws what the reader accepts.
func FuzzReportFigures(f *testing.F) {
	f.Add(1000, 0, int64(time.Second), 1000.0, 0.5, int64(time.Millisecond), 2)
	f.Add(-179734, 0, int64(time.Second), 1000.0, 0.5, int64(time.Millisecond), 2)
	f.Add(1<<60, 1<<60, int64(-time.Second), -1.0, 1e300, int64(-1), 0)
	f.Fuzz(func(t *testing.T, answers, errs int, dur int64, before, kept float64, p99 int64, intervals int) {
		cmp := storedComparison()
		res := cmp.Results[0]
		res.Intervals = res.Intervals[:min(max(intervals, 0), len(res.Intervals))]
		for i := range res.Intervals {
			iv := &res.Intervals[i]
			iv.Answers, iv.Errors = answers, errs
			iv.End = iv.Start.Add(time.Duration(dur))
			iv.Latency.P99 = time.Duration(p99)
		}
		cmp.Rows[0].Before, cmp.Rows[0].Kept, cmp.Rows[0].P99 = before, kept, time.Duration(p99)
		var saved bytes.Buffer
		if err := cmp.WriteJSON(&saved); err != nil {
			return // a figure JSON cannot hold
		}
		read, err := loadtest.ReadComparisonJSON(&saved)
		if err != nil {
			return
		}
		report.Table(io.Discard, read)
		report.Chart(io.Discard, read)
		report.HTML(io.Discard, read)
		report.Diff(io.Discard, read, read)
		report.Summary(io.Discard, read.Results[0])
		report.RunHTML(io.Discard, read.Results[0])
	})
}
