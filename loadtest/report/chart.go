package report

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/primetime-lab/primetime/loadtest"
)

var sparks = []rune("▁▂▃▄▅▆▇█")

// Chart draws each run of cmp in the terminal: its answers per interval as
// a line of bars, scaled to its own peak, with the long request's span
// marked underneath. With sweeps, it first draws each line of the sweep's
// curves: answers per second and p99 at each value of the first sweep, as
// bars on a log scale of the line's own.
func Chart(w io.Writer, cmp *loadtest.Comparison) error {
	ew := &errWriter{w: w}
	writeSweepChart(ew, cmp)
	writeChart(ew, cmp)
	return ew.err
}

// writeSweepChart draws the terminal form of the page's sweep curves.
func writeSweepChart(w io.Writer, cmp *loadtest.Comparison) {
	ps := sweepsOf(cmp)
	if ps == nil || len(ps.Lines) == 0 {
		return
	}
	width := 0
	for _, l := range ps.Lines {
		width = max(width, len(l.Label))
	}
	bars := func(values []*float64) string {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range values {
			if v != nil && *v > 0 {
				lo, hi = math.Min(lo, *v), math.Max(hi, *v)
			}
		}
		var b strings.Builder
		for _, v := range values {
			switch {
			case v == nil || *v <= 0:
				b.WriteRune(' ')
			case hi <= lo:
				b.WriteRune(sparks[len(sparks)-1])
			default:
				f := (math.Log(*v) - math.Log(lo)) / (math.Log(hi) - math.Log(lo))
				b.WriteRune(sparks[min(len(sparks)-1, int(f*float64(len(sparks))))])
			}
		}
		return b.String()
	}
	fmt.Fprintf(w, "answers/s and p99 at %s = %s, each line on its own log scale\n", ps.Name, strings.Join(cmp.Sweeps[0].Values, ", "))
	for _, l := range ps.Lines {
		first, last := "", ""
		for _, v := range l.Before {
			if v != nil {
				if first == "" {
					first = count(*v)
				}
				last = count(*v)
			}
		}
		fmt.Fprintf(w, "%-*s |%s| %s to %s/s  p99 |%s|\n", width, l.Label, bars(l.Before), first, last, bars(l.P99))
	}
	fmt.Fprintln(w)
}

func writeChart(w io.Writer, cmp *loadtest.Comparison) {
	fmt.Fprintln(w, "answers per interval, each row scaled to its own peak; ━ marks the long request in flight")
	width := 0
	for _, res := range cmp.Results {
		width = max(width, len(res.Name()))
	}
	for _, res := range cmp.Results {
		peak := 0
		for _, iv := range res.Intervals {
			peak = max(peak, iv.Answers)
		}
		var line, span strings.Builder
		for _, iv := range res.Intervals {
			switch {
			case iv.Answers <= 0:
				line.WriteRune(' ')
			default:
				line.WriteRune(sparks[min(len(sparks)-1, iv.Answers*len(sparks)/(peak+1))])
			}
			if iv.LongInFlight {
				span.WriteRune('━')
			} else {
				span.WriteRune(' ')
			}
		}
		peakRate := 0.0
		if len(res.Intervals) > 0 {
			peakRate = float64(peak) / res.Scenario.Interval.Seconds()
		}
		fmt.Fprintf(w, "%-*s |%s| peak %s/s\n", width, res.Name(), line.String(), count(peakRate))
		fmt.Fprintf(w, "%-*s  %s\n", width, "", strings.TrimRight(span.String(), " "))
	}
}
