package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

// DefaultStrategies returns the strategies Compare runs when given none:
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
	Scenario Scenario
	// Strategies are the strategies' text forms; nil, with no Values,
	// means DefaultStrategies().
	Strategies []string
	// Values are more strategies, given as values; they run after
	// Strategies. One whose text form strategy.Parse reads back (its
	// scheduler and executor are built in or registered) runs in a child
	// process like the others; any other needs InProcess.
	Values []strategy.Strategy
	// Task is the name of the registered task the servers run; empty means
	// the prime task. For another task the answers are not checked unless
	// Scenario.Check is set.
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
	// PythonCosts are the interpreter's costs of the Python-mode rows;
	// zero means strategy.DefaultPythonCosts.
	PythonCosts strategy.PythonCosts
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
	// Stderr receives the child servers' logs; nil means os.Stderr.
	Stderr io.Writer
	// Progress, if not nil, is told about each run's start and each of
	// its intervals as it closes.
	Progress Progress
}

// Progress reports an Experiment's progress.
type Progress interface {
	// Start is called before each run; label is its row's Label.
	Start(label string, sc Scenario)
	// Interval is called as each of its intervals closes.
	Interval(label string, iv Interval, events []Event)
	// Done is called with the run's result.
	Done(label string, r *Result)
}

// A Comparison is an Experiment's outcome: one row per strategy (and mode),
// in the Experiment's order, and the result of every run, in the order
// they ran.
type Comparison struct {
	Scenario Scenario `json:"scenario"`
	// Conditions are what the comparison was measured under: the load
	// generator's; each row's server ran in the conditions its row says.
	Conditions Conditions `json:"conditions"`
	// Python is the version of the Python that served the CPython rows.
	Python string `json:"python,omitempty"`
	// Idle is how many idle connections measured each row's IdleBytes,
	// or 0.
	Idle    int       `json:"idle,omitempty"`
	Rows    []Row     `json:"rows"`
	Results []*Result `json:"results"`
}

// A Row is one run's line in a Comparison: a strategy, in Go mode or in
// Python mode.
type Row struct {
	Strategy string `json:"strategy"`
	// GIL is the switch interval of Python mode, or 0 for Go mode; for a
	// CPython row, its switch interval (0: CPython's default, 5 ms).
	GIL time.Duration `json:"gil,omitempty"`
	// Runtime is "cpython" for a row the lecture's server served under
	// CPython, and empty for the Go server.
	Runtime string `json:"runtime,omitempty"`
	// MaxProcs is the server's GOMAXPROCS: Experiment.MaxProcs, or the
	// machine's CPUs; 0 for a CPython row.
	MaxProcs int `json:"gomaxprocs,omitempty"`
	// Long is the long request of a row whose long request was not the
	// scenario's: CPython's, scaled.
	Long string `json:"long,omitempty"`
	// Reconnect says the small requests used a new connection each.
	Reconnect bool `json:"reconnect,omitempty"`
	// Before, During and After are the small requests' answers per
	// second; Kept is During / Before, reported only when the long
	// request was answered (otherwise KeptMissing says why).
	Before      float64 `json:"before"`
	During      float64 `json:"during"`
	After       float64 `json:"after"`
	Kept        float64 `json:"kept"`
	KeptMissing string  `json:"kept_missing,omitempty"`
	// LongAnswered says whether the long request was answered before the
	// run ended, and LongLatency how long it took.
	LongAnswered bool          `json:"long_answered"`
	LongLatency  time.Duration `json:"long_latency,omitempty"`
	// Errors counts the small requests that failed (in all its runs).
	Errors int `json:"errors"`
	// Runs is how many times the row ran (Experiment.Count), when more
	// than once: its figures are then the runs' medians, BeforeRange and
	// KeptRange their smallest and largest, Samples every run's, and
	// Significance says whether they differ from another row's.
	Runs         int           `json:"runs,omitempty"`
	BeforeRange  []float64     `json:"before_range,omitempty"`
	KeptRange    []float64     `json:"kept_range,omitempty"`
	Samples      *Samples      `json:"samples,omitempty"`
	Significance *Significance `json:"significance,omitempty"`
	// GeneratorBound says that the load generator may have set the pace
	// (see Summary.GeneratorBound), in any of the row's runs.
	GeneratorBound bool `json:"generator_bound,omitempty"`
	// IdleBytes is the server's resident memory per idle connection,
	// measured with Experiment.Idle connections; 0 if not measured.
	IdleBytes float64 `json:"idle_bytes_per_conn,omitempty"`
	// Note explains a figure that would mislead on its own.
	Note string `json:"note,omitempty"`
}

// Label names the row: the strategy's text form, followed by " gil=5ms"
// in Python mode, or by " cpython" (and " si=2ms" for a switch interval
// of its own) for CPython.
func (r Row) Label() string { return label(r.Strategy, r.GIL, r.Runtime) }

func label(strategy string, gil time.Duration, runtime string) string {
	switch {
	case runtime != "" && gil > 0:
		return strategy + " " + runtime + " si=" + gil.String()
	case runtime != "":
		return strategy + " " + runtime
	case gil > 0:
		return strategy + " gil=" + gil.String()
	}
	return strategy
}

// Compare runs the experiment's scenario against each strategy in turn,
// each with a fresh server, and returns the comparison. It stops at the
// first strategy whose server cannot start, or when ctx ends, and returns
// what it has with the error. A program that runs servers in child
// processes (the default) must call primetime.MaybeWorker first thing in
// main.
func Compare(ctx context.Context, x Experiment) (*Comparison, error) {
	texts := x.Strategies
	if texts == nil && x.Values == nil {
		texts = DefaultStrategies()
	}
	// Check everything before the first run, which takes a while.
	var strats []strategy.Strategy
	for _, text := range texts {
		s, err := strategy.Parse(text)
		if err != nil {
			return nil, err
		}
		strats = append(strats, s)
	}
	for _, s := range x.Values {
		if _, err := strategy.Parse(s.String()); err != nil && !x.InProcess {
			return nil, fmt.Errorf("loadtest: strategy %s cannot be named in a child process (%v): register its scheduler and executor in an init function, or set InProcess", s, err)
		}
		strats = append(strats, s)
	}
	sc := x.Scenario
	sc.Addr = "127.0.0.1:0" // a placeholder, for withDefaults
	sc, err := sc.withDefaults()
	if err != nil {
		return nil, err
	}
	if sc.Check == nil && x.Task != "" && x.Task != primetime.Prime.Name() {
		// The default check knows the prime task's answers only.
		sc.Check = AnyAnswer
	}
	if x.InProcess && x.MaxProcs > 0 {
		return nil, errors.New("loadtest: MaxProcs needs servers in child processes")
	}
	if x.Idle < 0 || (x.InProcess && x.Idle > 0) {
		return nil, errors.New("loadtest: Idle must be positive, or 0, and needs servers in child processes")
	}
	intervals := x.SwitchIntervals
	if intervals == nil {
		intervals = []time.Duration{0}
	}
	for _, d := range intervals {
		if d < 0 {
			return nil, fmt.Errorf("loadtest: switch interval %v is negative", d)
		}
	}
	var py *pythonRows
	if x.CPython {
		if py, err = x.pythonRows(sc, intervals); err != nil {
			return nil, err
		}
	}
	cmp := &Comparison{Scenario: sc, Idle: x.Idle, Conditions: currentConditions()}
	if py != nil {
		cmp.Python = py.version
	}
	var targets []target
	for _, s := range strats {
		for _, gil := range intervals {
			targets = append(targets, target{strategy: s, gil: gil})
		}
		targets = append(targets, py.targets(s)...)
	}
	if x.Count < 0 {
		return nil, fmt.Errorf("loadtest: Count is %d; it must be at least 1, or 0 for once", x.Count)
	}
	runs := make([][]Row, len(targets))
	finish := func() *Comparison {
		for _, rows := range runs {
			if len(rows) > 0 {
				cmp.Rows = append(cmp.Rows, aggregate(rows))
			}
		}
		compareRows(cmp.Rows)
		return cmp
	}
	for round := range max(x.Count, 1) {
		for i, t := range targets {
			row, res, err := x.runTarget(ctx, t, sc, py)
			if res != nil {
				res.Label = row.Label()
				if x.Count > 1 {
					res.Label += fmt.Sprintf(" #%d", round+1)
				}
				cmp.Results = append(cmp.Results, res)
				runs[i] = append(runs[i], row)
			}
			if err != nil {
				return finish(), fmt.Errorf("loadtest: %s: %w", label(t.strategy.String(), t.gil, t.runtime), err)
			}
		}
	}
	return finish(), nil
}

// runTarget runs sc once against t and returns its row and result.
func (x Experiment) runTarget(ctx context.Context, t target, sc Scenario, py *pythonRows) (Row, *Result, error) {
	s := t.strategy
	run := sc
	run.Reconnect = sc.Reconnect || (isSerial(s) && !x.KeepSerialConnections)
	if t.runtime != "" {
		run.Long = py.long
	}
	res, idle, err := x.runOne(ctx, t, run)
	if res == nil {
		return Row{}, nil, err
	}
	row := rowOf(s, res)
	row.GIL, row.Runtime, row.IdleBytes = t.gil, t.runtime, idle
	if t.runtime == "" {
		row.MaxProcs = x.MaxProcs
		if row.MaxProcs == 0 {
			row.MaxProcs = runtime.NumCPU()
		}
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
	runtime  string // "" for Go, "cpython"
	python   string // the Python that runs it, for CPython
}

// isSerial reports whether s serves one connection at a time.
func isSerial(s strategy.Strategy) bool {
	text := s.String()
	return text == "serial" || len(text) > 7 && text[:7] == "serial+"
}

// runOne starts srv, measures its idle connections if asked, runs sc
// against it and stops it.
func (x Experiment) runOne(ctx context.Context, srv target, sc Scenario) (*Result, float64, error) {
	s := srv.strategy
	addr, pid, stop, err := x.startServer(srv, sc.Protocol)
	if err != nil {
		return nil, 0, err
	}
	sc.Addr, sc.ServerPID = addr, pid
	var idle float64
	if x.Idle > 0 && !isSerial(s) {
		if idle, err = idleCost(ctx, sc, pid, x.Idle); err != nil {
			return nil, 0, errors.Join(err, stop())
		}
	}
	name := label(s.String(), srv.gil, srv.runtime)
	var monitor Monitor
	if x.Progress != nil {
		x.Progress.Start(name, sc)
		monitor = func(iv Interval, events []Event) { x.Progress.Interval(name, iv, events) }
	}
	res, runErr := Run(ctx, sc, monitor)
	stopErr := stop()
	if res != nil && x.Progress != nil {
		x.Progress.Done(name, res)
	}
	return res, idle, errors.Join(runErr, stopErr)
}

// startServer starts srv and returns its address, its process (0 for one
// in this process) and how to stop it.
func (x Experiment) startServer(srv target, protocol server.Protocol) (string, int, func() error, error) {
	s, gil := srv.strategy, srv.gil
	if srv.runtime != "" {
		return startPython(srv, protocol, x.Stderr)
	}
	cfg := childConfig{Strategy: s.String(), Task: x.Task, MaxProcs: x.MaxProcs, GIL: gil, PythonCosts: x.PythonCosts, Protocol: protocol}
	if x.InProcess {
		addr, stop, err := serveInProcess(s, cfg, discardLogger)
		return addr, 0, stop, err
	}
	c, err := startChild(cfg, x.Stderr)
	if err != nil {
		return "", 0, nil, err
	}
	return c.Addr, c.Pid(), c.stop, nil
}

func rowOf(s strategy.Strategy, r *Result) Row {
	sum := r.Summary
	row := Row{
		Strategy:     s.String(),
		Reconnect:    r.Scenario.Reconnect,
		Before:       sum.Before,
		During:       sum.During,
		After:        sum.After,
		Kept:         sum.Kept,
		KeptMissing:  sum.KeptMissing,
		LongAnswered: sum.LongAnswered,
		LongLatency:  sum.LongLatency,
		Errors:       sum.Errors,
	}
	switch {
	case !r.Scenario.SendsLong():
		row.Note = "no long request"
	case sum.LongRefused:
		row.Note = "long request refused: " + sum.LongAnswer
	case sum.LongError != "":
		row.Note = "long request failed: " + sum.LongError
	case sum.LongSent && !sum.LongAnswered && isSerial(s) && !r.Scenario.Reconnect:
		row.Note = "long request never answered: with persistent connections Serial never accepts its connection"
	case sum.LongSent && !sum.LongAnswered:
		row.Note = "long request not answered before the run ended"
	case r.Scenario.Reconnect:
		row.Note = "a new connection per request"
	}
	if sum.GeneratorBound {
		row.GeneratorBound = true
		row.Note = strings.TrimPrefix(row.Note+"; the generator may be the limit ("+sum.GeneratorWhy+")", "; ")
	}
	return row
}
