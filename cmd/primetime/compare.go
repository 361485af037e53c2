package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/compare"
	"github.com/primetime-lab/primetime/loadtest/report"
)

// Defaults of compare: seven strategies in about a minute, with an interval
// fine enough to draw.
const (
	compareDuration = 7 * time.Second
	compareInterval = 250 * time.Millisecond
)

func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strategies := fs.String("strategies", strings.Join(compare.DefaultStrategies(), ","), "comma-separated `list` of strategies")
	scenario := scenarioFlags(fs, compareDuration, compareInterval)
	inProcess := fs.Bool("inprocess", false, "run the servers in this process instead of one child process each")
	keepSerial := fs.Bool("keep-serial-connections", false, "run serial with persistent connections too (it then never accepts the long request)")
	html := fs.String("html", "", "write the chart and the table as a self-contained HTML page to `file`")
	jsonFile := fs.String("json", "", "write the comparison as JSON to `file`")
	gilList := fs.String("gil", "", "also run every strategy in Python mode with these comma-separated switch `intervals` (e.g. 5ms or 5ms,2ms,1s)")
	gilOnly := fs.Bool("gil-only", false, "with -gil, leave out the Go-mode rows")
	maxProcs := fs.Int("maxprocs", 0, "GOMAXPROCS of each server process (0: leave it)")
	costs := pythonCostFlags(fs)
	withPython := fs.Bool("cpython", false, "also run the lecture's own server under CPython for each strategy that has a counterpart (a row per -gil interval)")
	python := fs.String("python", "", "the `python` of -cpython rows (default python3 from PATH)")
	repeat := fs.Int("count", 1, "run every strategy `N` times, interleaved, and show medians, ranges and significance")
	idle := fs.Int("idle", 0, "before each run, open `N` idle connections to the server and report its memory per connection")
	if !parseNoArgs(fs, args, stderr) {
		return 2
	}
	var list []string
	for _, s := range strings.Split(*strategies, ",") {
		if s = strings.TrimSpace(s); s != "" {
			list = append(list, s)
		}
	}
	if len(list) == 0 {
		fmt.Fprintln(stderr, "primetime compare: -strategies is empty")
		return 2
	}
	intervals, err := switchIntervals(*gilList, *gilOnly)
	if err != nil {
		fmt.Fprintf(stderr, "primetime compare: %v\n", err)
		return 2
	}
	x := compare.Experiment{
		Scenario:              scenario(),
		Strategies:            list,
		InProcess:             *inProcess,
		KeepSerialConnections: *keepSerial,
		SwitchIntervals:       intervals,
		MaxProcs:              *maxProcs,
		Idle:                  *idle,
		Count:                 *repeat,
		CPython:               *withPython,
		PythonCosts:           costs(),
		Python:                *python,
		Stderr:                stderr,
		Progress:              report.NewProgress(stdout),
	}
	sc := x.Scenario
	fmt.Fprintf(stdout, "%d runs, %s each: %d clients send %q", len(list)*len(intervals)*max(*repeat, 1), sc.Duration, sc.Clients, sc.Small)
	if sc.LongAfter >= 0 {
		fmt.Fprintf(stdout, ", one sends %q after %s", sc.Long, sc.LongAfter)
	}
	where := "a child process each"
	if *inProcess {
		where = "this process"
	}
	fmt.Fprintf(stdout, "; servers in %s; %d CPUs", where, runtime.NumCPU())
	if *maxProcs > 0 {
		fmt.Fprintf(stdout, ", GOMAXPROCS %d", *maxProcs)
	}
	if *idle > 0 {
		fmt.Fprintf(stdout, "; %s idle connections measure each server's memory first", thousands(*idle))
	}
	fmt.Fprint(stdout, "\n\n")

	cmp, err := compare.Run(ctx, x)
	if cmp == nil {
		fmt.Fprintf(stderr, "primetime compare: %v\n", err)
		return 2
	}
	fmt.Fprintln(stdout)
	showComparison(stdout, cmp)
	var errs []string
	if err != nil {
		errs = append(errs, err.Error())
	}
	if *html != "" {
		if werr := writeFile(*html, func(w io.Writer) error { return report.HTML(w, cmp) }); werr != nil {
			errs = append(errs, werr.Error())
		}
	}
	if *jsonFile != "" {
		if werr := writeFile(*jsonFile, cmp.WriteJSON); werr != nil {
			errs = append(errs, werr.Error())
		}
	}
	if len(errs) > 0 {
		fmt.Fprintf(stderr, "primetime compare: %s\n", strings.Join(errs, "; "))
		return 1
	}
	return 0
}

// showComparison prints a comparison's table and chart.
func showComparison(w io.Writer, cmp *loadtest.Comparison) {
	report.Table(w, cmp)
	fmt.Fprintln(w)
	report.Chart(w, cmp)
}

// thousands formats n with thousands separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// switchIntervals reads -gil: the runs' switch intervals, 0 standing for Go
// mode.
func switchIntervals(list string, only bool) ([]time.Duration, error) {
	var out []time.Duration
	if !only {
		out = append(out, 0)
	}
	for _, field := range strings.Split(list, ",") {
		if field = strings.TrimSpace(field); field == "" {
			continue
		}
		d, err := time.ParseDuration(field)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("-gil: %q is not a positive duration such as 5ms", field)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-gil-only needs -gil intervals")
	}
	return out, nil
}
