package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/internal/textwrap"
	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/compare"
	"github.com/primetime-lab/primetime/loadtest/report"
	"github.com/primetime-lab/primetime/strategy"
)

// Defaults of compare: seven strategies in about a minute, with an interval
// fine enough to draw.
const (
	compareDuration = 7 * time.Second
	compareInterval = 250 * time.Millisecond
)

// The convoy experiment's grid and its points' length: the CPU-bound
// clients start as the warm-up ends, so the figures are the steady state
// beside them.
const (
	convoyLongs    = "0,1,2"
	convoyGIL      = "5ms,1ms,100us,10us"
	convoyDuration = 3 * time.Second
	convoyWarmup   = 500 * time.Millisecond
	// convoyMaxProcs gives each server more Ps than the machine has cores,
	// so that the kernel, not Go's scheduler, decides which interpreter
	// thread runs, as it does CPython's: a woken waiter otherwise waits
	// for a P behind a CPU-bound goroutine, up to its 10 ms quantum.
	convoyMaxProcs = 8
)

func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCommand("compare", "primetime compare [flags]", stdout, stderr)
	strategies := c.String("strategies", strings.Join(compare.DefaultStrategies(), ","), "comma-separated `list` of strategies: "+strategyForms())
	var rateAuto bool
	scenario := scenarioFlagsAuto(c, compareDuration, fmt.Sprintf("(default %v, or a tenth of a -duration under %v)", compareInterval, 10*compareInterval), &rateAuto)
	kneeP99 := c.duration("p99", compare.DefaultKneeP99, positive, "with -rate auto, the p99 a knee's rate must stay under")
	inProcess := c.Bool("inprocess", false, "run the servers in this process instead of one child process each (they then share the load generator's scheduler and CPU figures: for trying things, not for measuring)")
	keepSerial := c.Bool("keep-serial-connections", false, "run serial with persistent connections too (it then never accepts the long request)")
	html := c.String("html", "", "write the chart and the table as a self-contained HTML page to `file`")
	jsonFile := c.String("json", "", "write the comparison as JSON to `file`")
	gilList := c.String("gil", "", "also run every strategy in Python mode with these comma-separated switch `intervals` (e.g. 5ms or 5ms,2ms,1s)")
	gilOnly := c.Bool("gil-only", false, "with -gil, leave out the Go-mode rows")
	maxProcs := c.int("maxprocs", 0, nonNegative, "GOMAXPROCS of each server process (0: leave it)")
	cpus := c.int("cpus", 0, nonNegative, "run each server's processes on `N` CPUs only, by their CPU affinity, Go, Python mode and CPython alike (0: every CPU)")
	costs := pythonCostFlags(c)
	withPython := c.Bool("cpython", false, "also run the lecture's own server under CPython for each strategy that has a counterpart (a row per -gil interval)")
	python := c.String("python", "", "the `python` of -cpython rows (default python3 from PATH)")
	withJVM := c.Bool("jvm", false, "also run the lecture's server in Java for each strategy that has a counterpart (perconn: a thread per connection, and a virtual thread per connection from Java 21; pool:N: a fixed thread pool)")
	java := c.String("java", "", "the `java` of -jvm rows (default java from PATH; a JDK, 11 or later)")
	repeat := c.int("count", 1, positive, "run every strategy `N` times, interleaved, and show medians, ranges and significance")
	hlogDir := c.String("hlog", "", "write each run's latency histograms as an HdrHistogram interval log to `dir`, a file per run")
	traceDir := c.String("trace", "", "record each run's timeline (who runs when) and write it to `dir` in the Trace Event Format, a file per row; the page draws them")
	var sweeps []loadtest.Sweep
	c.Func("sweep", "repeat the experiment at each value: `NAME=v1,v2,...`, NAME one of rate, clients, request, gil, longs, maxprocs, cpus, preempt (async or off); twice for a grid", func(v string) error {
		name, values, ok := strings.Cut(v, "=")
		if !ok || name == "" || values == "" {
			return fmt.Errorf("%q is not of the form NAME=v1,v2", v)
		}
		sweeps = append(sweeps, loadtest.Sweep{Name: name, Values: strings.Split(values, ",")})
		return nil
	})
	convoy := c.Bool("convoy", false, "the convoy experiment: perconn in Python mode and under CPython, no long request, "+convoyLongs+" CPU-bound clients, switch intervals "+convoyGIL+", GOMAXPROCS "+strconv.Itoa(convoyMaxProcs))
	natsFl := addNATSFlags(c, "", natsUsage)
	idle := c.int("idle-conns", 0, nonNegative, "before each run, open `N` idle connections to the server and report its memory per connection")
	task := taskFlag(c)
	for field, name := range map[string]string{"Strategies": "strategies", "InProcess": "inprocess", "SwitchIntervals": "gil",
		"MaxProcs": "maxprocs", "CPUs": "cpus", "CPython": "cpython", "Python": "python", "JVM": "jvm", "Java": "java", "Count": "count", "Idle": "idle-conns", "TraceDir": "trace", "Sweeps": "sweep", "NATS": "nats"} {
		c.field(field, name)
	}
	if code, ok := c.parse(args, 0); !ok {
		return code
	}
	var list []string
	for _, s := range strings.Split(*strategies, ",") {
		if s = strings.TrimSpace(s); s != "" {
			list = append(list, s)
		}
	}
	intervals, err := switchIntervals(*gilList, *gilOnly)
	if err != nil {
		return c.usageError(err.Error())
	}
	sc := scenario()
	for flag, request := range map[string]string{"request": sc.Small, "long": sc.Long} {
		if _, ok := loadtest.ParseHTTPRequest(request); ok {
			return c.usageError(fmt.Sprintf("-%s %q: compare measures primetime's own servers, which it starts; measure a service of your own with load", flag, request))
		}
	}
	if *convoy {
		if len(sweeps) > 0 || *gilList != "" {
			return c.usageError("-convoy sets its own -sweep and -gil: leave them out")
		}
		sweeps = []loadtest.Sweep{{Name: "longs", Values: strings.Split(convoyLongs, ",")}, {Name: "gil", Values: strings.Split(convoyGIL, ",")}}
		*withPython = true
		sc.LongAfter = -1
		if !c.set("strategies") {
			list = []string{"perconn"}
		}
		if !c.set("duration") {
			sc.Duration = convoyDuration
		}
		if !c.set("warmup") {
			sc.Warmup = convoyWarmup
		}
		if !c.set("maxprocs") {
			*maxProcs = convoyMaxProcs
		}
	}
	if sc.Interval == 0 && sc.Duration >= 10*compareInterval {
		sc.Interval = compareInterval
	}
	progress := report.NewProgress(stdout)
	sc.Check = checkOf(*task)
	x := compare.Experiment{
		Task:                  (*task).Name(),
		Scenario:              sc,
		Strategies:            list,
		InProcess:             *inProcess,
		KeepSerialConnections: *keepSerial,
		SwitchIntervals:       intervals,
		MaxProcs:              *maxProcs,
		CPUs:                  *cpus,
		Idle:                  *idle,
		Count:                 *repeat,
		CPython:               *withPython,
		PythonCosts:           costs(),
		Python:                *python,
		JVM:                   *withJVM,
		Java:                  *java,
		TraceDir:              *traceDir,
		Sweeps:                sweeps,
		Stderr:                stderr,
		Progress:              progress,
	}
	if x.Strategies == nil {
		x.Strategies = []string{} // empty, not the default list
	}
	if rateAuto {
		x.Knee = &compare.KneeSearch{P99: *kneeP99}
	}
	for _, dir := range []string{x.TraceDir, *hlogDir} {
		if dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return c.fail(err, 2)
			}
		}
	}
	var ss []strategy.Strategy
	for _, text := range list {
		if s, err := strategy.Parse(text); err == nil {
			ss = append(ss, s)
		}
	}
	var stopNATS func() error
	var localNATS bool
	x.NATS, localNATS, stopNATS, err = natsFor(natsFl, ss, stderr, slog.New(slog.DiscardHandler))
	if err != nil {
		return c.fail(err, 1)
	}
	defer stopNATS()
	natsNote := ""
	switch {
	case localNATS:
		natsNote = "nats tasks go to local workers through a NATS server of its own"
	case natsWorkersNeeded(ss) > 0:
		natsNote = "nats tasks go to the workers of " + x.NATS.URL
	}
	plan, err := x.Plan()
	if err != nil {
		return c.fail(err, 2)
	}
	if err := checkOutputs(*html, *jsonFile); err != nil {
		return c.fail(err, 2)
	}
	progress.Align(plan.Rows...)
	printPlan(stdout, plan, x, natsNote)

	cmp, err := plan.Run(ctx)
	if cmp == nil {
		return c.fail(err, 1)
	}
	if len(cmp.Rows) > 0 {
		progress.Legend(plan.Scenario.Interval)
		fmt.Fprintln(stdout)
		showComparison(stdout, cmp)
	}
	var errs []string
	if err != nil {
		errs = append(errs, c.message(err))
	}
	if measured := slices.ContainsFunc(cmp.Rows, func(r loadtest.Row) bool { return r.KeptMissing == "" }); !measured && plan.Scenario.SendsLong() && len(cmp.Rows) > 0 {
		errs = append(errs, "no row measured kept: "+cmp.Rows[0].KeptMissing)
	}
	for _, row := range cmp.Rows {
		if row.Interrupted {
			errs = append(errs, fmt.Sprintf("%s was interrupted (%s): its figures are not its own", row.FullLabel(), strings.SplitN(row.Note, ";", 2)[0]))
		}
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
	if *hlogDir != "" {
		for _, res := range cmp.Results {
			// A file per run, named and tagged as its trace is named.
			name := strings.ReplaceAll(strings.TrimSuffix(compare.TraceFile(res.Name()), ".json"), "#", "")
			tag := strings.ReplaceAll(name, ",", "_")
			path := filepath.Join(*hlogDir, name+".hlog")
			if werr := writeFile(path, func(w io.Writer) error { return res.WriteHlog(w, tag) }); werr != nil {
				errs = append(errs, werr.Error())
			}
		}
	}
	if len(errs) > 0 {
		fmt.Fprintf(stderr, "primetime compare: %s\n", strings.Join(errs, "; "))
		return 1
	}
	return 0
}

// printPlan says what an experiment runs, with its defaults filled in.
func printPlan(out io.Writer, plan *compare.Plan, x compare.Experiment, natsNote string) {
	var w strings.Builder
	sc := plan.Scenario
	swept := map[string]string{}
	for _, sw := range x.Sweeps {
		swept[sw.Name] = strings.Join(sw.Values, ", ")
	}
	fmt.Fprintf(&w, "%d runs, %s each", plan.Runs, sc.Duration)
	if sc.SendsLong() {
		fmt.Fprintf(&w, " (up to %s while a long request waits for its answer)", sc.MaxDuration)
	}
	clients, small := strconv.Itoa(sc.Clients), strconv.Quote(sc.Small)
	if v, ok := swept["clients"]; ok {
		clients = v
	}
	if v, ok := swept["request"]; ok {
		small = v
	}
	fmt.Fprintf(&w, ":\n%s clients send %s", clients, small)
	if v, ok := swept["rate"]; ok {
		fmt.Fprintf(&w, " at %s a second in all", v)
	}
	if sc.LongAfter >= 0 {
		fmt.Fprintf(&w, ", one sends %q after %s", sc.Long, sc.LongAfter)
	}
	where := "a child process each"
	if x.InProcess {
		where = "this process"
	}
	for _, name := range []string{"gil", "longs", "maxprocs", "cpus", "preempt"} {
		if v, ok := swept[name]; ok {
			fmt.Fprintf(&w, "; %s = %s", name, v)
		}
	}
	if x.Knee != nil {
		fmt.Fprintf(&w, "; then each strategy's knee")
	}
	fmt.Fprintf(&w, "; servers in %s; %d CPUs", where, runtime.NumCPU())
	if x.MaxProcs > 0 {
		fmt.Fprintf(&w, ", GOMAXPROCS %d", x.MaxProcs)
	}
	if x.CPUs > 0 {
		fmt.Fprintf(&w, "; each server on %d of them", x.CPUs)
	}
	if x.Idle > 0 {
		fmt.Fprintf(&w, "; %s idle connections measure each server's memory first", thousands(x.Idle))
	}
	if natsNote != "" {
		fmt.Fprintf(&w, "; %s", natsNote)
	}
	for _, l := range plan.Left {
		fmt.Fprintf(&w, "; %s", l)
	}
	for line := range strings.SplitSeq(w.String(), "\n") {
		fmt.Fprintln(out, wrapClauses(line, textwrap.Width))
	}
	fmt.Fprintln(out)
}

// wrapClauses breaks line between its clauses ("; ") into lines of at most
// width columns, so that no clause is cut; a longer clause stands alone.
func wrapClauses(line string, width int) string {
	var b strings.Builder
	n := 0
	for i, clause := range strings.Split(line, "; ") {
		switch {
		case i > 0 && n+2+len(clause) > width:
			b.WriteString(";\n")
			n = 0
		case i > 0:
			b.WriteString("; ")
			n += 2
		}
		b.WriteString(clause)
		n += len(clause)
	}
	return b.String()
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
		var d time.Duration
		if err := (durationValue{&d, positive}).Set(field); err != nil {
			return nil, fmt.Errorf("-gil: %v", err)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-gil-only needs -gil intervals, such as -gil 5ms")
	}
	return out, nil
}
