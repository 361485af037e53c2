package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
)

// scenarioFlags defines the load flags shared by load and compare, with
// the given defaults, and returns a function that reads them.
func scenarioFlags(fs *flag.FlagSet, duration, interval time.Duration) func() loadtest.Scenario {
	clients := fs.Int("clients", loadtest.DefaultClients, "number of clients sending small requests")
	small := fs.String("request", loadtest.DefaultSmall, "the small `request` (n for the prime task)")
	long := fs.String("long", loadtest.DefaultLong, "the long `request`")
	after := fs.Duration("after", loadtest.DefaultLongAfter, "send the long request this long after the start (negative: never)")
	dur := fs.Duration("duration", duration, "length of the run")
	iv := fs.Duration("interval", interval, "monitor interval (at least 10ms)")
	warmup := fs.Duration("warmup", 0, "leave this much of the start out of the figures")
	reconnect := fs.Bool("reconnect", false, "use a new connection for every small request")
	rate := fs.Float64("rate", 0, "open loop: total small requests per second (0: closed loop)")
	protocol := protocolFlag(fs)
	return func() loadtest.Scenario {
		return loadtest.Scenario{
			Protocol:  *protocol,
			Clients:   *clients,
			Small:     *small,
			Long:      *long,
			LongAfter: *after,
			Duration:  *dur,
			Interval:  *iv,
			Warmup:    *warmup,
			Reconnect: *reconnect,
			Rate:      *rate,
		}
	}
}

func load(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:25000", "server `address`")
	serverPid := fs.Int("server-pid", 0, "the server's `pid` on this machine, to record its CPU beside the generator's")
	scenario := scenarioFlags(fs, loadtest.DefaultDuration, loadtest.DefaultInterval)
	jsonFile := fs.String("json", "", "write the result as JSON to `file`")
	csvFile := fs.String("csv", "", "write the intervals as CSV to `file`")
	htmlFile := fs.String("html", "", "write the charts and the figures as a self-contained HTML page to `file`")
	if !parseNoArgs(fs, args, stderr) {
		return 2
	}
	sc := scenario()
	sc.Addr, sc.ServerPID = *addr, *serverPid
	var start time.Time // the first interval's start is the run's
	res, err := loadtest.Run(ctx, sc, func(iv loadtest.Interval, events []loadtest.Event) {
		if start.IsZero() {
			start = iv.Start
		}
		printInterval(stdout, iv, events, start)
	})
	if res == nil {
		fmt.Fprintf(stderr, "primetime load: %v\n", err)
		return 2
	}
	printSummary(stdout, res)
	if err := writeFiles(res, *jsonFile, *csvFile, *htmlFile); err != nil {
		fmt.Fprintf(stderr, "primetime load: %v\n", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "primetime load: stopped early: %v\n", err)
		return 1
	}
	return 0
}

// printInterval prints one interval as the lecture's monitor does, with
// the events that happened during it; times count from start.
func printInterval(w io.Writer, iv loadtest.Interval, events []loadtest.Event, start time.Time) {
	for _, e := range events {
		fmt.Fprintf(w, "  %s\n", describeEvent(e, start))
	}
	mark := ""
	if iv.LongInFlight {
		mark = "  [long request in flight]"
	}
	if iv.Warmup {
		mark += "  (warm-up)"
	}
	cpu := fmt.Sprintf("cpu gen %.2f", iv.GeneratorCPU)
	if iv.ServerCPU >= 0 {
		cpu += fmt.Sprintf(" server %.2f", iv.ServerCPU)
	}
	fmt.Fprintf(w, "%7.2fs %9.0f/s  answers %7d  errors %4d  p50 %8s  p99 %8s  max %8s  %s%s\n",
		iv.End.Sub(start).Seconds(), iv.Rate(), iv.Answers, iv.Errors,
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

func printSummary(w io.Writer, res *loadtest.Result) {
	s := res.Summary
	fmt.Fprintf(w, "\nmeasured %s", res.Conditions)
	fmt.Fprintf(w, "\nsmall requests: %d answers, %d errors", s.Answers, s.Errors)
	if len(s.ErrorsByKind) > 0 {
		var kinds []string
		for k, n := range s.ErrorsByKind {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
		fmt.Fprintf(w, " (%s)", strings.Join(kinds, ", "))
	}
	fmt.Fprintf(w, "; latency p50 %s, p90 %s, p99 %s, p99.9 %s, max %s\n",
		short(s.Latency.P50), short(s.Latency.P90), short(s.Latency.P99), short(s.Latency.P999), short(s.Latency.Max))
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

func writeFiles(res *loadtest.Result, jsonFile, csvFile, htmlFile string) error {
	var errs []error
	if jsonFile != "" {
		errs = append(errs, writeFile(jsonFile, res.WriteJSON))
	}
	if csvFile != "" {
		errs = append(errs, writeFile(csvFile, res.WriteCSV))
	}
	if htmlFile != "" {
		errs = append(errs, writeFile(htmlFile, func(w io.Writer) error { return writeLoadHTML(w, res) }))
	}
	return errors.Join(errs...)
}

func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// short formats a duration with three significant digits.
func short(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.3gs", d.Seconds())
}

// count formats a rate with thousands separators.
func count(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// kept formats a share kept, or "-" when missing says why there is none.
func kept(f float64, missing string) string {
	if missing != "" {
		return "-"
	}
	return percent(f)
}
