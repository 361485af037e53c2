package compare

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/cpython"
	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/strategy"
)

// cpythonDefaultInterval is CPython's default switch interval, which the
// CPython rows run at when the experiment names none.
const cpythonDefaultInterval = 5 * time.Millisecond

// pythonRows is what an Experiment's CPython rows share.
type pythonRows struct {
	python    string
	version   string
	long      string          // the long request, scaled for CPython
	runtime   string          // the rows' Runtime: "cpython", or "cpython-nogil" for a free-threaded build
	intervals []time.Duration // the switch intervals of the rows; 0 is the default
}

// pythonRows finds the Python and scales the long request for it.
func (x Experiment) pythonRows(sc loadtest.Scenario, intervals []time.Duration) (*pythonRows, error) {
	if x.Task != "" && !slices.Contains(cpython.Tasks, x.Task) {
		return nil, fmt.Errorf("CPython rows serve the tasks %s only, not %q", strings.Join(cpython.Tasks, " and "), x.Task)
	}
	if !cpython.Speaks(sc.Protocol) {
		return nil, fmt.Errorf("the lecture's server under CPython does not speak %s", sc.Protocol)
	}
	python, err := cpython.Find(x.Python)
	if err != nil {
		return nil, err
	}
	version, err := cpython.Version(python)
	if err != nil {
		return nil, err
	}
	p := &pythonRows{python: python, version: version, long: sc.Long, runtime: "cpython"}
	free, err := cpython.FreeThreaded(python)
	if err != nil {
		return nil, err
	}
	if free {
		// PEP 703's build, running without the lock: the row the
		// lecture could not have.
		p.runtime, p.version = "cpython-nogil", version+", free-threaded, without the GIL"
	}
	for _, d := range intervals {
		if d > 0 {
			p.intervals = append(p.intervals, d)
		}
	}
	if len(p.intervals) == 0 {
		p.intervals = []time.Duration{0}
	}
	// CPython's nth prime is far slower than Go's, and its long request
	// is scaled to last as long; hashlib hashes as fast as Go does.
	prime := x.Task == "" || x.Task == primetime.Prime.Name()
	if n, err := strconv.Atoi(sc.Long); prime && err == nil && n > 0 && (sc.SendsLong() || sc.Longs > 0) {
		if long, ok := x.scaled[python+" "+sc.Long]; ok {
			p.long = long
			return p, nil
		}
		scaled, err := scaleLong(python, n)
		if err != nil {
			return nil, err
		}
		p.long = strconv.Itoa(scaled)
		if x.scaled != nil {
			x.scaled[python+" "+sc.Long] = p.long
		}
	}
	return p, nil
}

// Calibration of the long request: both runtimes time the nth prime at a
// small n, and the time grows about as n squared in both.
const (
	calibrateGo     = 2000
	calibratePython = 1500
)

// scaleLong returns the n whose prime CPython computes in about the time
// Go takes for the nth.
func scaleLong(python string, n int) (int, error) {
	return scaleLongFor(func(n int) (time.Duration, error) { return cpython.NthTime(python, n) }, calibratePython, n)
}

// scaleLongFor returns the n whose prime another runtime, timed by nthTime
// at calib, computes in the time Go computes the nth: the algorithm's time
// grows about as n².
func scaleLongFor(nthTime func(int) (time.Duration, error), calib, n int) (int, error) {
	start := time.Now()
	if _, err := primetime.NthPrime(context.Background(), calibrateGo); err != nil {
		return 0, err
	}
	goTime := time.Since(start)
	theirs, err := nthTime(calib)
	if err != nil {
		return 0, err
	}
	perGo := goTime.Seconds() / (calibrateGo * calibrateGo)
	perTheirs := theirs.Seconds() / float64(calib*calib)
	return max(1, int(math.Round(float64(n)*math.Sqrt(perGo/perTheirs)))), nil
}

// targets returns the CPython rows of s: none if the lecture has no
// counterpart of it, or p is nil.
func (p *pythonRows) targets(s strategy.Strategy) []target {
	if p == nil {
		return nil
	}
	if _, ok := cpython.Shape(strategy.Describe(s)); !ok {
		return nil
	}
	var ts []target
	for _, d := range p.intervals {
		ts = append(ts, target{strategy: s, gil: d, runtime: p.runtime, program: p.python, long: p.long})
	}
	return ts
}

// startPython starts the lecture's server for t under CPython.
func startPython(t target, task string, cpus int, protocol loadtest.Protocol, trace, long string, after time.Duration, stderr io.Writer, within time.Duration) (string, int, func() error, error) {
	shape, _ := cpython.Shape(strategy.Describe(t.strategy))
	interval := t.gil
	if interval == 0 {
		interval = cpythonDefaultInterval
	}
	o := cpython.Options{SwitchInterval: interval, Protocol: string(protocol), Task: task, Stderr: stderr, StartTimeout: within}
	if cpus > 0 {
		var err error
		if o.CPUs, err = reexec.CPUsFor(cpus); err != nil {
			return "", 0, nil, err
		}
	}
	if trace != "" {
		o.Trace, o.Label, o.Long, o.After = trace, t.label(), long, after
	}
	srv, err := cpython.Start(t.program, shape, o)
	if err != nil {
		return "", 0, nil, err
	}
	return srv.Addr, srv.Pid(), srv.Stop, nil
}
