package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
)

// Defaults of compare: seven strategies in about a minute, with an interval
// fine enough to draw.
const (
	compareDuration = 7 * time.Second
	compareInterval = 250 * time.Millisecond
)

func compare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strategies := fs.String("strategies", strings.Join(loadtest.DefaultStrategies(), ","), "comma-separated `list` of strategies")
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
	x := loadtest.Experiment{
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
		Progress:              &progress{w: stdout},
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
		fmt.Fprintf(stdout, "; %s idle connections measure each server's memory first", count(float64(*idle)))
	}
	fmt.Fprint(stdout, "\n\n")

	cmp, err := loadtest.Compare(ctx, x)
	if cmp == nil {
		fmt.Fprintf(stderr, "primetime compare: %v\n", err)
		return 2
	}
	fmt.Fprintln(stdout)
	writeTable(stdout, cmp)
	fmt.Fprintf(stdout, "measured %s\n", cmp.Conditions)
	if cmp.Python != "" {
		fmt.Fprintf(stdout, "CPython rows: %s\n", cmp.Python)
	}
	fmt.Fprintln(stdout)
	writeChart(stdout, cmp)
	var errs []string
	if err != nil {
		errs = append(errs, err.Error())
	}
	if *html != "" {
		if werr := writeFile(*html, func(w io.Writer) error { return writeHTML(w, cmp) }); werr != nil {
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

// progress shows each run as it goes: a dot per interval, a bar while the
// long request is in flight.
type progress struct{ w io.Writer }

func (p *progress) Start(strategy string, _ loadtest.Scenario) {
	fmt.Fprintf(p.w, "%-22s ", strategy)
}

func (p *progress) Interval(_ string, iv loadtest.Interval, _ []loadtest.Event) {
	mark := "."
	if iv.LongInFlight {
		mark = "|"
	}
	fmt.Fprint(p.w, mark)
}

func (p *progress) Done(_ string, r *loadtest.Result) {
	s := r.Summary
	fmt.Fprintf(p.w, " %s/s before, kept %s", count(s.Before), kept(s.Kept, s.KeptMissing))
	if s.LongAnswered {
		fmt.Fprintf(p.w, ", long request %s", short(s.LongLatency))
	}
	if s.GeneratorBound {
		fmt.Fprintf(p.w, "; the generator may be the limit")
	}
	fmt.Fprintln(p.w)
}

// writeTable prints the comparison as a table; with idle connections
// measured, a column says how much memory each took in the server. A row
// that ran more than once shows its medians, the range of before and kept,
// and "~" where kept does not differ significantly from its reference row.
func writeTable(w io.Writer, cmp *loadtest.Comparison) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	idle := ""
	if cmp.Idle > 0 {
		idle = "idle conn\t"
	}
	fmt.Fprintf(tw, "strategy\tbefore/s\tduring/s\tafter/s\tkept\tlong request\terrors\t%s\tnote\n", idle)
	repeated := false
	for _, r := range cmp.Rows {
		long := "unanswered"
		if r.LongAnswered {
			long = short(r.LongLatency)
		}
		if cmp.Idle > 0 {
			idle = idleCell(r) + "\t"
		}
		repeated = repeated || r.Runs > 1
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n",
			r.Label(), beforeCell(r), count(r.During), count(r.After), keptCell(r), long, r.Errors, idle, r.Note)
	}
	tw.Flush()
	if repeated {
		fmt.Fprintf(w, "%d runs each: medians (smallest-largest); ~ marks a kept no different from the row it is compared with,\n"+
			"its Go row or the first row, by a Mann-Whitney U test (p >= 0.05), as benchstat says it; under 4 runs nothing can differ\n", cmp.Rows[0].Runs)
	}
}

// beforeCell formats a row's before-rate: with the range of its runs when
// it ran more than once.
func beforeCell(r loadtest.Row) string {
	if r.Runs > 1 {
		return fmt.Sprintf("%s (%s-%s)", count(r.Before), count(r.BeforeRange[0]), count(r.BeforeRange[1]))
	}
	return count(r.Before)
}

// keptCell formats a row's kept: with the range of its runs and "~" when
// it does not differ significantly from its reference, when it ran more
// than once.
func keptCell(r loadtest.Row) string {
	cell := kept(r.Kept, r.KeptMissing)
	if r.Runs > 1 {
		if len(r.KeptRange) == 2 {
			cell += fmt.Sprintf(" (%.1f-%.1f%%)", 100*r.KeptRange[0], 100*r.KeptRange[1])
		}
		if sig := r.Significance; sig != nil && !sig.KeptDiffers() {
			cell += " ~"
		}
	}
	return cell
}

// idleCell formats a row's memory per idle connection; "-" for a strategy
// that cannot hold idle connections.
func idleCell(r loadtest.Row) string {
	if r.IdleBytes <= 0 {
		return "-"
	}
	return count(r.IdleBytes) + " B"
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// writeChart draws each strategy's answers per interval, scaled to its own
// peak, with the long request's span marked underneath.
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
