package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
)

// Monitor returns a loadtest.Monitor that prints each interval as it
// closes, as the lecture's monitor does, with the events that happened
// during it; times count from the first interval's start. A write that
// fails is not retried: the monitor goes on.
func Monitor(w io.Writer) loadtest.Monitor {
	var start time.Time // the first interval's start is the run's
	return func(iv loadtest.Interval, events []loadtest.Event) {
		if start.IsZero() {
			start = iv.Start
		}
		printInterval(w, iv, events, start)
	}
}

// printInterval prints one interval and its events; times count from
// start.
func printInterval(w io.Writer, iv loadtest.Interval, events []loadtest.Event, start time.Time) {
	for _, e := range events {
		fmt.Fprintf(w, "  %s\n", describeEvent(e, start))
	}
	mark := ""
	if iv.LongInFlight {
		mark = "  [long request in flight]"
		for _, e := range events {
			if e.Kind == loadtest.LongFailed {
				mark = "  [long request failed]"
			}
		}
	}
	if iv.Warmup {
		mark += "  (warm-up)"
	}
	cpu := fmt.Sprintf("cpu: generator %.2f cores", iv.GeneratorCPU)
	if iv.ServerCPU >= 0 {
		cpu += fmt.Sprintf(", server %.2f cores", iv.ServerCPU)
	}
	fmt.Fprintf(w, "%7.2fs %9s/s  answers %7s  errors %4s  p50 %8s  p99 %8s  max %8s  %s%s\n",
		iv.End.Sub(start).Seconds(), count(iv.Rate()), count(float64(iv.Answers)), count(float64(iv.Errors)),
		short(iv.Latency.P50), short(iv.Latency.P99), short(iv.Latency.Max), cpu, mark)
}

func describeEvent(e loadtest.Event, start time.Time) string {
	at := fmt.Sprintf("%.2fs", e.Time.Sub(start).Seconds())
	switch e.Kind {
	case loadtest.LongSent:
		return fmt.Sprintf("%s  -> long request sent: %s", at, e.Detail)
	case loadtest.LongAnswered:
		return fmt.Sprintf("%s  <- long request answered in %s: %s", at, short(e.Latency), e.Detail)
	case loadtest.LongFailed:
		return fmt.Sprintf("%s  !! long request failed after %s: %s", at, short(e.Latency), e.Detail)
	}
	return fmt.Sprintf("%s  !! %s", at, e.Detail)
}

// Summary writes a run's figures: the conditions it was measured under,
// the small requests' answers, errors and latency, the throughput before,
// during and after the long request, and what it kept.
func Summary(w io.Writer, res *loadtest.Result) error {
	ew := &errWriter{w: w}
	printSummary(ew, res)
	return ew.err
}

func printSummary(w io.Writer, res *loadtest.Result) {
	s := res.Summary
	fmt.Fprintf(w, "\nmeasured %s", res.Conditions)
	fmt.Fprintf(w, "\nsmall requests: %s answers, %s errors", count(float64(s.Answers)), count(float64(s.Errors)))
	if len(s.ErrorsByKind) > 0 {
		var kinds []string
		for _, k := range slices.Sorted(maps.Keys(s.ErrorsByKind)) {
			n := s.ErrorsByKind[k]
			kinds = append(kinds, fmt.Sprintf("%s %s", k, count(float64(n))))
		}
		fmt.Fprintf(w, " (%s)", strings.Join(kinds, ", "))
	}
	fmt.Fprintf(w, "; latency p50 %s, p90 %s, p99 %s, p99.9 %s, max %s\n",
		short(s.Latency.P50), short(s.Latency.P90), short(s.Latency.P99), short(s.Latency.P999), short(s.Latency.Max))
	if s.Closed > 0 {
		fmt.Fprintf(w, "the server closed %s connections after an answer (Connection: close); each client opened another\n", count(float64(s.Closed)))
	}
	switch {
	case !s.LongSent:
		fmt.Fprintf(w, "throughput: %s/s (no long request)\n", count(s.Before))
	case s.LongRefused:
		fmt.Fprintf(w, "throughput: before %s/s, during %s/s, after %s/s\n", count(s.Before), count(s.During), count(s.After))
		fmt.Fprintf(w, "long request refused after %s: %s\n", short(s.LongLatency), s.LongAnswer)
	case s.LongError != "":
		fmt.Fprintf(w, "throughput: before %s/s, during %s/s, after %s/s\n", count(s.Before), count(s.During), count(s.After))
		fmt.Fprintf(w, "long request failed after %s: %s\n", short(s.LongLatency), s.LongError)
	case !s.LongAnswered:
		fmt.Fprintf(w, "throughput: before %s/s, during %s/s; the long request was not answered before the end\n", count(s.Before), count(s.During))
	default:
		fmt.Fprintf(w, "throughput: before %s/s, during %s/s, after %s/s\n", count(s.Before), count(s.During), count(s.After))
		fmt.Fprintf(w, "long request: %s in %s\n", s.LongAnswer, short(s.LongLatency))
	}
	if s.GeneratorBound {
		fmt.Fprintf(w, "warning: the figures may be the load generator's limit, not the server's: %s\n", s.GeneratorWhy)
	}
	switch {
	case !s.LongSent:
	case s.KeptMissing != "":
		fmt.Fprintf(w, "kept while the long request ran: - (%s)\n", s.KeptMissing)
	default:
		fmt.Fprintf(w, "kept while the long request ran: %s\n", percent(s.Kept))
	}
}
