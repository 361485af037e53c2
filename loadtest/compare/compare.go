package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
	"github.com/primetime-lab/primetime/strategy/natsexec"
)

// DefaultStrategies returns the strategies Run runs when given none:
// the lecture's shapes, with pools sized for this machine.
func DefaultStrategies() []string {
	n := runtime.NumCPU()
	return []string{
		"serial",
		"perconn",
		"pool:8",
		"loop",
		fmt.Sprintf("loop+goroutines:%d", n),
		fmt.Sprintf("procpool:%d", n),
		fmt.Sprintf("loop+procs:%d", n),
	}
}

// An Experiment is one scenario run against several strategies.
type Experiment struct {
	// Scenario is the load; its Addr is ignored, since each strategy gets
	// a server of its own, which speaks the Scenario's Protocol.
	Scenario loadtest.Scenario
	// Strategies are the strategies' text forms; nil, with no Values,
	// means DefaultStrategies().
	Strategies []string
	// Values are more strategies, given as values; they run after
	// Strategies. One whose text form strategy.Parse reads back (its
	// scheduler and executor are built in or registered) runs in a child
	// process like the others; any other needs InProcess.
	Values []strategy.Strategy
	// Task is the name of the registered task the servers run; empty means
	// the prime task. Another task needs Scenario.Check, as in Run: a nil
	// Check checks the prime task's answers.
	Task string
	// InProcess runs each server in this process instead of in a child
	// process of its own. The load generator and the server then share a
	// scheduler, and the figures say less.
	InProcess bool
	// KeepSerialConnections runs Serial with persistent connections like
	// every other strategy. By default Serial gets a new connection per
	// request: with persistent connections it never accepts the long
	// request's connection at all.
	KeepSerialConnections bool
	// MaxProcs, if positive, is each child server's GOMAXPROCS. It
	// cannot be set for servers in this process.
	MaxProcs int
	// CPUs, if positive, runs each server process (Go, Python mode,
	// CPython, and the processes they start) on that many of this
	// machine's CPUs only, by its CPU affinity, and sets a Go server's
	// GOMAXPROCS to it unless MaxProcs says otherwise: the lecture's
	// "additional cores" as a setting. Linux only; refused for servers in
	// this process, and for more CPUs than this program may use.
	CPUs int
	// NoAsyncPreempt runs each Go server with GODEBUG=asyncpreemptoff=1:
	// a goroutine is then preempted only where it calls a function, no
	// longer by a signal after 10 ms; at one CPU, Go's own switch interval
	// of sorts.
	NoAsyncPreempt bool
	// PythonCosts are the interpreter's costs of the Python-mode rows;
	// zero means server.DefaultPythonCosts.
	PythonCosts server.PythonCosts
	// CPython adds, for each strategy the lecture has a counterpart of
	// (serial, perconn, pool:N, procpool:N, loop, loop+goroutines:N,
	// loop+procs:N), rows served by the lecture's own server under CPython:
	// one per positive entry of SwitchIntervals ("perconn cpython
	// si=2ms"), or one at CPython's default switch interval ("perconn
	// cpython") if there is none. Their long request is scaled so that it
	// lasts about as long as Go's, CPython's nth prime being far slower;
	// Row.Long says which n it was. It needs python3 (3.10 or later).
	CPython bool
	// Python is the Python of the CPython rows; empty means python3 from
	// PATH.
	Python string
	// JVM adds, for each strategy the JVM has a counterpart of (perconn: a
	// thread per connection; pool:N: a fixed pool of N threads), a row of
	// the lecture's server in Java, Runtime "jvm", whose long request is
	// scaled as the CPython rows' is; and for perconn a row of a virtual
	// thread per connection, Runtime "jvm-virtual", where the JDK has
	// virtual threads (21 and later; Plan.Left says so where it has
	// not). It needs a JDK, 11 or later.
	JVM bool
	// Java is the java of the JVM rows; empty means java from PATH.
	Java string
	// Count is how many times each row runs: every row once, then every
	// row again, so that a drift of the machine hits them all alike. The
	// rows then show medians and ranges; zero means once.
	Count int
	// Idle, if positive, is how many idle connections to open to each
	// server before its run, each asking the small request once, to
	// measure the server's resident memory per connection (Row.IdleBytes).
	// They are closed before the run, so that they change none of its
	// figures. It needs servers in child processes, and /proc (Linux).
	// A strategy that serves one connection at a time is left out: it
	// cannot hold idle connections.
	Idle int
	// SwitchIntervals runs every strategy once per entry: 0 in Go mode,
	// a positive interval in Python mode, with an emulated interpreter
	// lock of that switch interval (server.Server's GIL option). Nil
	// means Go mode only.
	SwitchIntervals []time.Duration
	// TraceDir, if not empty, has each row's server record its timeline
	// (see server.Recorder) from 250 ms before the long request's arrival
	// to 250 ms after its answer (or the run's end), and write it there in the Trace Event Format, a
	// file per run named after its row ("perconn-gil=5ms.json"; "-2" for
	// the second of Count); CPython rows log each request's steps. Each
	// Row has its first run's file and the figures taken from it. The
	// directory must exist.
	TraceDir string
	// Knee, if not nil, searches each row's knee (Row.Knee) after its run,
	// against a server of its own: the open-loop rates probed, with no
	// long request, as KneeSearch says.
	Knee *KneeSearch
	// Sweeps, if any, repeat the experiment at each of their values: every
	// row at every point, a point being a value of each (two make a
	// grid), interleaved as Count is. Each Row says its point.
	Sweeps []loadtest.Sweep
	// NATS says how the rows whose executor is nats (natsexec.New) reach
	// the NATS server whose workers run their tasks, with what
	// credentials: the zero value is natsexec.DefaultURL, without.
	// A strategy of Values reaches its child server by its text form, so
	// with this connection too, not one given by natsexec.With; the
	// child gets it in its environment. The command starts a NATS server
	// of its own, with local workers, when it is given none.
	NATS natsexec.Conn
	// Stderr receives the child servers' logs; nil means os.Stderr.
	Stderr io.Writer

	// scaled holds, while Plan works, the long requests scaled for
	// CPython, by their Go form.
	scaled map[string]string
	// Progress, if not nil, is told about each run's start and each of
	// its intervals as it closes.
	Progress Progress
}

// Progress reports an Experiment's progress.
type Progress interface {
	// Start is called before each run; label is its row's Label.
	Start(label string, sc loadtest.Scenario)
	// Interval is called as each of its intervals closes.
	Interval(label string, iv loadtest.Interval, events []loadtest.Event)
	// Done is called after each run that started, with its result and
	// the error that ended it, if any; r is nil if it failed before its
	// first interval.
	Done(label string, r *loadtest.Result, err error)
}

// A Plan is what an Experiment runs, checked: its scenario with the
// defaults filled in, and its rows in order. Plan makes every check that
// Run makes, before anything runs, so that a program can say what will
// run, or what is wrong, first.
type Plan struct {
	// Scenario is the experiment's scenario, its defaults filled in.
	Scenario loadtest.Scenario
	// Rows are the labels of the rows, in the order they run; each runs
	// Count times.
	Rows []string
	// Runs is how many runs the experiment makes in all.
	Runs int
	// Python is the version of the Python of the CPython rows, if any,
	// and Java that of the JVM of the JVM rows.
	Python, Java string
	// Left says what the experiment asked for that this machine cannot
	// run, and why: a line each.
	Left []string

	x      Experiment
	sweeps []loadtest.Sweep // x's, their values in canonical form
	points []point
}

// A point is what a Plan runs at one point of its sweeps: the experiment
// with the point's settings, and its targets.
type point struct {
	settings []loadtest.Setting
	x        Experiment
	sc       loadtest.Scenario
	targets  []target
	py       *pythonRows
	jvm      *jvmRows
}

// label returns the label of t's row at the point.
func (pt point) label(t target) string {
	return loadtest.Row{Strategy: t.strategy.String(), GIL: t.gil, Runtime: t.runtime, Point: pt.settings}.FullLabel()
}

// Plan checks x and returns what it runs. Its errors are
// *loadtest.FieldError's that name the field at fault.
func (x Experiment) Plan() (*Plan, error) {
	grid, sweeps, err := x.grid()
	if err != nil {
		return nil, err
	}
	p := &Plan{x: x, sweeps: sweeps}
	x.scaled = map[string]string{} // one calibration of CPython's long request for every point
	for _, settings := range grid {
		xp, err := x.at(settings)
		if err != nil {
			return nil, err
		}
		pt, err := xp.planPoint()
		if err != nil {
			return nil, err
		}
		pt.settings = settings
		if len(p.points) == 0 {
			p.Scenario = pt.sc
		}
		if pt.py != nil {
			p.Python = pt.py.version
		}
		if pt.jvm != nil && p.Java == "" {
			p.Java = pt.jvm.version
			p.Left = append(p.Left, pt.jvm.left()...)
		}
		for _, t := range pt.targets {
			p.Rows = append(p.Rows, pt.label(t))
		}
		p.Runs += len(pt.targets) * max(x.Count, 1)
		p.points = append(p.points, pt)
	}
	return p, nil
}

// planPoint checks x, which has no sweeps, and returns what it runs.
func (x Experiment) planPoint() (point, error) {
	texts := x.Strategies
	if texts == nil && x.Values == nil {
		texts = DefaultStrategies()
	}
	if len(texts) == 0 && len(x.Values) == 0 {
		return point{}, loadtest.Fault("Strategies", "{Strategies} is empty: name a strategy or more")
	}
	var strats []strategy.Strategy
	for _, text := range texts {
		s, err := strategy.Parse(text)
		if err != nil {
			return point{}, loadtest.Fault("Strategies", fmt.Sprintf("{Strategies}: %q: %v", text, errors.Unwrap(err)))
		}
		strats = append(strats, s)
	}
	for _, s := range x.Values {
		if _, err := strategy.Parse(s.String()); err != nil && !x.InProcess {
			return point{}, loadtest.Fault("Values", fmt.Sprintf("strategy %s cannot be named in a child process (%v): register its scheduler and executor in an init function, or set {InProcess}", s, err))
		}
		strats = append(strats, s)
	}
	sc := x.Scenario
	sc.Addr = "127.0.0.1:0" // a placeholder, for WithDefaults
	sc, err := sc.WithDefaults()
	if err != nil {
		return point{}, err
	}
	if _, err := (childConfig{Task: x.Task}).task(); err != nil {
		return point{}, loadtest.Fault("Task", err.Error())
	}
	if sc.Check == nil && x.Task != "" && x.Task != primetime.Prime.Name() {
		// One rule for Run and Compare: a nil Check checks the prime
		// task's answers, so another task needs a check of its own.
		return point{}, loadtest.Fault("Check", fmt.Sprintf("{Task} is %q, and a nil {Check} checks the prime task's answers: set {Check} to a check of that task's answers (loadtest.AnyAnswer takes every answer)", x.Task))
	}
	switch {
	case x.MaxProcs < 0:
		return point{}, loadtest.Fault("MaxProcs", fmt.Sprintf("{MaxProcs} is %d; it must be positive, or 0 to leave each server's GOMAXPROCS", x.MaxProcs))
	case x.InProcess && x.MaxProcs > 0:
		return point{}, loadtest.Fault("MaxProcs", "{MaxProcs} needs servers in child processes: leave out {InProcess}")
	case x.CPUs < 0:
		return point{}, loadtest.Fault("CPUs", fmt.Sprintf("{CPUs} is %d; it must be positive, or 0 for every CPU", x.CPUs))
	case x.InProcess && x.CPUs > 0:
		return point{}, loadtest.Fault("CPUs", "{CPUs} needs servers in child processes: leave out {InProcess}")
	case x.InProcess && x.NoAsyncPreempt:
		return point{}, loadtest.Fault("NoAsyncPreempt", "{NoAsyncPreempt} needs servers in child processes: leave out {InProcess}")
	case x.Idle < 0:
		return point{}, loadtest.Fault("Idle", fmt.Sprintf("{Idle} is %d; it must be positive, or 0 for no idle connections", x.Idle))
	case x.InProcess && x.Idle > 0:
		return point{}, loadtest.Fault("Idle", "{Idle} needs servers in child processes: leave out {InProcess}")
	case x.TraceDir != "" && !isDir(x.TraceDir):
		return point{}, loadtest.Fault("TraceDir", fmt.Sprintf("{TraceDir} %q is not a directory: make it first", x.TraceDir))
	case x.Count < 0:
		return point{}, loadtest.Fault("Count", fmt.Sprintf("{Count} is %d; it must be at least 1, or 0 for once", x.Count))
	}
	intervals := x.SwitchIntervals
	if intervals == nil {
		intervals = []time.Duration{0}
	}
	for i, d := range intervals {
		if d < 0 {
			return point{}, loadtest.Fault("SwitchIntervals", fmt.Sprintf("{SwitchIntervals}: %v is negative", d))
		}
		if slices.Contains(intervals[:i], d) {
			return point{}, loadtest.Fault("SwitchIntervals", fmt.Sprintf("{SwitchIntervals} has %v twice", switchName(d)))
		}
	}
	p := point{x: x, sc: sc}
	if x.CPython {
		if p.py, err = x.pythonRows(sc, intervals); err != nil {
			return point{}, err
		}
	}
	if x.JVM {
		if p.jvm, err = x.jvmRows(sc); err != nil {
			return point{}, err
		}
	}
	for _, s := range strats {
		for _, gil := range intervals {
			p.targets = append(p.targets, target{strategy: s, gil: gil})
		}
		p.targets = append(p.targets, p.py.targets(s)...)
		p.targets = append(p.targets, p.jvm.targets(s)...)
	}
	return p, nil
}

// switchName names a switch interval of SwitchIntervals: 0 is Go mode.
func switchName(d time.Duration) string {
	if d == 0 {
		return "Go mode (0)"
	}
	return d.String()
}

// Run runs the experiment's scenario against each strategy in turn, each
// with a fresh server, and returns the comparison. It checks x first, as
// Plan does, and runs nothing if x is wrong. It stops at the first
// strategy whose server cannot start, or when ctx ends, and returns what it
// has with the error. A program that runs servers in child processes (the
// default) must call primetime.MaybeWorker first thing in main.
func Run(ctx context.Context, x Experiment) (*loadtest.Comparison, error) {
	p, err := x.Plan()
	if err != nil {
		return nil, err
	}
	return p.Run(ctx)
}

// Run runs the plan, as the package's Run does: every row at every point,
// then all of them again for each of Count.
func (p *Plan) Run(ctx context.Context) (*loadtest.Comparison, error) {
	x := p.x
	cmp := &loadtest.Comparison{Scenario: p.Scenario, Idle: x.Idle, Conditions: loadtest.CurrentConditions(), Python: p.Python, Java: p.Java, Left: p.Left, Sweeps: p.sweeps}
	if x.Task != primetime.Prime.Name() {
		cmp.Task = x.Task
	}
	var runs [][]loadtest.Row
	for _, pt := range p.points {
		runs = append(runs, make([][]loadtest.Row, len(pt.targets))...)
	}
	finish := func() *loadtest.Comparison {
		for _, rows := range runs {
			if len(rows) > 0 {
				cmp.Rows = append(cmp.Rows, loadtest.Aggregate(rows))
			}
		}
		cmp.SetSignificance()
		cmp.Claims = cmp.LectureClaims()
		return cmp
	}
	for round := range max(x.Count, 1) {
		i := 0
		for _, pt := range p.points {
			for _, t := range pt.targets {
				row, res, err := pt.x.runTarget(ctx, t, pt.sc, pt.py, round, pt.label(t))
				if res != nil {
					row.Point = pt.settings
					res.Label = row.FullLabel()
					if x.Count > 1 {
						res.Run = round + 1
					}
					cmp.Results = append(cmp.Results, res)
					runs[i] = append(runs[i], row)
				}
				if err != nil {
					return finish(), fmt.Errorf("%s: %w", pt.label(t), err)
				}
				i++
			}
		}
	}
	return finish(), nil
}

// runTarget runs sc once against t and returns its row and result.
func (x Experiment) runTarget(ctx context.Context, t target, sc loadtest.Scenario, py *pythonRows, round int, label string) (loadtest.Row, *loadtest.Result, error) {
	s := t.strategy
	run := sc
	run.Reconnect = sc.Reconnect || (oneAtATime(s) && !x.KeepSerialConnections)
	if t.long != "" {
		run.Long = t.long
	}
	trace := x.tracePath(label, round)
	res, idle, err := x.runOne(ctx, t, run, trace, label)
	if res == nil {
		return loadtest.Row{}, nil, err
	}
	row := rowOf(s, res)
	if x.Knee != nil && err == nil {
		knee, kerr := x.findKnee(ctx, t, run, label)
		row.Knee = &knee
		if kerr != nil {
			return row, res, fmt.Errorf("its knee: %w", kerr)
		}
	}
	if trace != "" && err == nil {
		figures, terr := readFigures(trace, run.Long)
		if terr != nil {
			return row, res, fmt.Errorf("its timeline: %w", terr)
		}
		row.Trace, row.Timeline = trace, figures
	}
	if errors.Is(err, context.Canceled) {
		row.Note = strings.TrimPrefix(row.Note+"; stopped early, interrupted", "; ")
	}
	row.GIL, row.Runtime, row.IdleBytes, row.CPUs = t.gil, t.runtime, idle, x.CPUs
	if t.runtime == "" {
		row.MaxProcs = x.maxProcs()
	}
	if run.Long != sc.Long {
		row.Long = run.Long
		scaled := fmt.Sprintf("long request n=%s, as long as Go's %s", run.Long, sc.Long)
		row.Note = strings.TrimPrefix(row.Note+"; "+scaled, "; ")
	}
	return row, res, err
}

// A target is what one row of a Comparison runs against: a strategy in Go
// mode or Python mode, or the lecture's server under CPython.
type target struct {
	strategy strategy.Strategy
	gil      time.Duration
	runtime  string // "" for Go, "cpython", "cpython-nogil", "jvm" or "jvm-virtual"
	program  string // the Python or the java that runs it
	long     string // its long request, if not the scenario's
}

// label returns the label of t's row.
func (t target) label() string {
	return loadtest.Row{Strategy: t.strategy.String(), GIL: t.gil, Runtime: t.runtime}.Label()
}

// maxProcs returns a Go server's GOMAXPROCS: MaxProcs, or CPUs, or every
// CPU of this machine.
func (x Experiment) maxProcs() int {
	switch {
	case x.MaxProcs > 0:
		return x.MaxProcs
	case x.CPUs > 0:
		return x.CPUs
	}
	return runtime.NumCPU()
}

// oneAtATime reports whether s serves one connection at a time, as Serial
// does: with persistent connections, it never serves the long request's.
func oneAtATime(s strategy.Strategy) bool { return strategy.Describe(s).Scheduler.MaxConns == 1 }

// runOne starts srv, measures its idle connections if asked, runs sc
// against it and stops it; name is the run's row's, for Progress.
func (x Experiment) runOne(ctx context.Context, srv target, sc loadtest.Scenario, trace, name string) (*loadtest.Result, float64, error) {
	s := srv.strategy
	addr, pid, stop, err := x.startServer(ctx, srv, sc, trace)
	if err != nil {
		return nil, 0, err
	}
	sc.Addr, sc.ServerPID = addr, pid
	var idle float64
	if x.Idle > 0 && !oneAtATime(s) {
		if idle, err = idleCost(ctx, sc, pid, x.Idle); err != nil {
			return nil, 0, errors.Join(err, stop())
		}
	}
	var monitor loadtest.Monitor
	if x.Progress != nil {
		x.Progress.Start(name, sc)
		monitor = func(iv loadtest.Interval, events []loadtest.Event) { x.Progress.Interval(name, iv, events) }
	}
	res, runErr := loadtest.Run(ctx, sc, monitor)
	stopErr := stop()
	if x.Progress != nil {
		x.Progress.Done(name, res, runErr)
	}
	return res, idle, errors.Join(runErr, stopErr)
}

// startServer starts srv and returns its address, its process (0 for one
// in this process) and how to stop it. A child process has until ctx's
// deadline to start, or startTimeout without one.
func (x Experiment) startServer(ctx context.Context, srv target, sc loadtest.Scenario, trace string) (string, int, func() error, error) {
	s, protocol := srv.strategy, sc.Protocol
	within := startWithin(ctx)
	if srv.runtime == jvmRuntime || srv.runtime == virtualRuntime {
		return startJVM(srv, x.Task, x.CPUs, trace, sc.Long, sc.Duration-sc.LongAfter, x.Stderr, within)
	}
	if srv.runtime != "" {
		return startPython(srv, x.Task, x.CPUs, protocol, trace, sc.Long, sc.Duration-sc.LongAfter, x.Stderr, within)
	}
	cfg := x.childConfig(srv, sc, trace)
	if x.InProcess {
		addr, stop, _, err := serveInProcess(s, cfg, slog.New(slog.DiscardHandler))
		return addr, 0, stop, err
	}
	c, err := startChild(cfg, x.Stderr, within)
	if err != nil {
		return "", 0, nil, err
	}
	return c.Addr, c.Pid(), c.stop, nil
}

// startWithin returns how long a child process has to start: until ctx's
// deadline, or startTimeout without one.
func startWithin(ctx context.Context) time.Duration {
	if deadline, ok := ctx.Deadline(); ok {
		return time.Until(deadline)
	}
	return startTimeout
}

// childConfig returns the configuration of the Go server of srv, in Go or
// Python mode, recording its timeline to trace if it is not empty.
func (x Experiment) childConfig(srv target, sc loadtest.Scenario, trace string) childConfig {
	cfg := childConfig{Strategy: srv.strategy.String(), Task: x.Task, MaxProcs: x.maxProcs(), CPUs: x.CPUs, NoAsyncPreempt: x.NoAsyncPreempt, GIL: srv.gil, PythonCosts: x.PythonCosts, Protocol: sc.Protocol, NATS: x.NATS}
	if trace != "" {
		cfg.Trace, cfg.Anchor, cfg.After = trace, sc.Long, sc.Duration-sc.LongAfter
	}
	return cfg
}

// littlesLaw checks a closed-loop run by Little's law: each client that
// was answered has one request in flight, so their number is the
// throughput times the mean latency, within 10%. It says which is off, or
// returns "".
func littlesLaw(r *loadtest.Result) string {
	sum, sc := r.Summary, r.Scenario
	if sc.Rate > 0 || sum.Answers == 0 || sum.AnsweredClients == 0 {
		return ""
	}
	var note []string
	if sum.AnsweredClients < sc.Clients {
		note = append(note, fmt.Sprintf("%d of the %d clients got no answer before the long request", sc.Clients-sum.AnsweredClients, sc.Clients))
	}
	if c := float64(sum.AnsweredClients); math.Abs(sum.InFlight-c) > 0.1*c {
		why := "the generator kept its clients idle between requests"
		if sc.Reconnect {
			why = "the clients spent the rest connecting, with a new connection per request"
		}
		note = append(note, fmt.Sprintf("Little's law: %.1f small requests in flight on average for %d clients answered: %s", sum.InFlight, sum.AnsweredClients, why))
	}
	return strings.Join(note, "; ")
}

func rowOf(s strategy.Strategy, r *loadtest.Result) loadtest.Row {
	sum := r.Summary
	row := loadtest.Row{
		Strategy:     s.String(),
		Reconnect:    r.Scenario.Reconnect,
		Before:       sum.Before,
		During:       sum.During,
		After:        sum.After,
		NoDuring:     sum.NoDuring,
		NoAfter:      sum.NoAfter,
		Kept:         sum.Kept,
		KeptMissing:  sum.KeptMissing,
		LongAnswered: sum.LongAnswered,
		LongLatency:  sum.LongLatency,
		Errors:       sum.Errors,
		P50:          sum.Latency.P50,
		P99:          sum.Latency.P99,
		InFlight:     sum.InFlight,
	}
	switch {
	case !r.Scenario.SendsLong():
		row.Note, row.NoLong = "no long request", true
	case sum.LongRefused:
		row.Note = "long request refused: " + sum.LongAnswer
	case sum.LongError != "":
		row.Note = "long request failed: " + sum.LongError
	case sum.LongSent && !sum.LongAnswered && oneAtATime(s) && !r.Scenario.Reconnect:
		row.Note = "long request never answered: with persistent connections a strategy that serves one connection at a time never serves its connection"
		if strategy.Describe(s).Scheduler == strategy.Describe(strategy.Serial()).Scheduler {
			row.Note = "long request never answered: with persistent connections Serial never accepts its connection"
		}
	case sum.LongSent && !sum.LongAnswered:
		row.Note = sum.KeptMissing
	case r.Scenario.Reconnect:
		row.Note = "a new connection per request"
	}
	if note := littlesLaw(r); note != "" {
		row.Note = strings.TrimPrefix(row.Note+"; "+note, "; ")
	}
	if sum.GeneratorBound {
		row.GeneratorBound = true
		row.Note = strings.TrimPrefix(row.Note+"; the generator may be the limit ("+sum.GeneratorWhy+")", "; ")
	}
	for _, e := range r.Events {
		if e.Kind == loadtest.FirstError && strings.Contains(e.Detail, natsexec.ErrUnreachable.Error()) {
			row.Interrupted = true
			row.Note = "interrupted: the NATS server was unreachable during the run; run it again; " + row.Note
			row.Note = strings.TrimSuffix(row.Note, "; ")
			break
		}
	}
	return row
}
