package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/primetime-lab/primetime/loadtest"
)

var sparks = []rune("▁▂▃▄▅▆▇█")

// Chart draws each run of cmp in the terminal: its answers per interval as
// a line of bars, scaled to its own peak, with the long request's span
// marked underneath.
func Chart(w io.Writer, cmp *loadtest.Comparison) error {
	ew := &errWriter{w: w}
	writeChart(ew, cmp)
	return ew.err
}

func writeChart(w io.Writer, cmp *loadtest.Comparison) {
	fmt.Fprintln(w, "answers per interval, each row scaled to its own peak; ━ marks the long request in flight")
	width := 0
	for _, res := range cmp.Results {
		width = max(width, len(res.Label))
	}
	for _, res := range cmp.Results {
		peak := 0
		for _, iv := range res.Intervals {
			peak = max(peak, iv.Answers)
		}
		var line, span strings.Builder
		for _, iv := range res.Intervals {
			switch {
			case iv.Answers == 0:
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
		fmt.Fprintf(w, "%-*s |%s| peak %s/s\n", width, res.Label, line.String(), count(peakRate))
		fmt.Fprintf(w, "%-*s  %s\n", width, "", strings.TrimRight(span.String(), " "))
	}
}
