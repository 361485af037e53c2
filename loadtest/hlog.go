package loadtest

import (
	"fmt"
	"io"
	"strings"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// WriteHlog writes r's intervals as an HdrHistogram interval log (format
// version 1.3), with hdrhistogram-go's log writer, as HdrHistogram's own
// tools read it (its Java HistogramLogProcessor, the Python hdrhistogram
// package): a start and base time of the run's start, and an interval
// histogram per interval, tagged tag, its latencies in nanoseconds (the
// tools' default unit). tag may be empty; it may not hold a comma, a space
// or a line break. Results saved before histograms were kept have none to
// write, and WriteHlog says so.
func (r *Result) WriteHlog(w io.Writer, tag string) error {
	if strings.ContainsAny(tag, ", \r\n") {
		return fmt.Errorf("loadtest: hlog tag %q holds a comma, a space or a line break", tag)
	}
	for i, iv := range r.Intervals {
		if iv.Histogram == nil {
			return fmt.Errorf("loadtest: interval %d of the run has no histogram: it was saved before they were kept", i)
		}
	}
	lw := hdr.NewHistogramLogWriter(w)
	start := r.Start.UnixMilli()
	lw.SetBaseTime(start)
	for _, step := range []func() error{
		func() error {
			return lw.OutputComment(fmt.Sprintf("[primetime load against %s: %d clients send %q]", r.Scenario.Addr, r.Scenario.Clients, r.Scenario.Small))
		},
		lw.OutputLogFormatVersion,
		func() error { return lw.OutputStartTime(start) },
		func() error { return lw.OutputBaseTime(start) },
		lw.OutputLegend,
	} {
		if err := step(); err != nil {
			return err
		}
	}
	for i, iv := range r.Intervals {
		us, err := hdr.Decode(iv.Histogram)
		if err != nil {
			return fmt.Errorf("loadtest: interval %d's histogram: %w", i, err)
		}
		ns := inNanoseconds(us)
		ns.SetTag(tag)
		ns.SetStartTimeMs(iv.Start.UnixMilli())
		ns.SetEndTimeMs(iv.End.UnixMilli())
		if err := lw.OutputIntervalHistogram(ns); err != nil {
			return err
		}
	}
	return nil
}

// inNanoseconds returns a histogram of h's values, recorded in µs, in ns:
// each of h's buckets, at its highest equivalent value, a thousand times
// over, within the precision of both.
func inNanoseconds(h *hdr.Histogram) *hdr.Histogram {
	ns := hdr.New(histMin*1000, histMax*1000, histSigFigs)
	for _, bar := range h.Distribution() {
		if bar.Count > 0 {
			ns.RecordValues(min(bar.To, histMax)*1000, bar.Count)
		}
	}
	return ns
}
