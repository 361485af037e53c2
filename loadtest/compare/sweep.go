package compare

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
)

// The settings a sweep may vary, in the order their flags are listed.
var sweepNames = []string{"rate", "clients", "request", "gil", "longs", "maxprocs", "cpus", "preempt"}

// maxSweeps is how many sweeps an experiment may have: two make a grid.
const maxSweeps = 2

// grid checks x's sweeps and returns their points, each a value of each
// sweep, the first sweep's varying slowest (without sweeps, one point with
// no settings), and the sweeps with their values in canonical form.
func (x Experiment) grid() ([][]loadtest.Setting, []loadtest.Sweep, error) {
	if len(x.Sweeps) > maxSweeps {
		return nil, nil, loadtest.Fault("Sweeps", fmt.Sprintf("{Sweeps} has %d sweeps; at most %d make a grid", len(x.Sweeps), maxSweeps))
	}
	points := [][]loadtest.Setting{nil}
	var canonical []loadtest.Sweep
	for i, sw := range x.Sweeps {
		if !slices.Contains(sweepNames, sw.Name) {
			return nil, nil, loadtest.Fault("Sweeps", fmt.Sprintf("{Sweeps}: %q is not a setting to sweep: give one of %s", sw.Name, strings.Join(sweepNames, ", ")))
		}
		for _, prev := range x.Sweeps[:i] {
			if prev.Name == sw.Name {
				return nil, nil, loadtest.Fault("Sweeps", fmt.Sprintf("{Sweeps} sweeps %s twice", sw.Name))
			}
		}
		if len(sw.Values) == 0 {
			return nil, nil, loadtest.Fault("Sweeps", fmt.Sprintf("{Sweeps}: %s has no values", sw.Name))
		}
		var values []string
		for _, v := range sw.Values {
			canon, err := sweepValue(sw.Name, strings.TrimSpace(v))
			if err != nil {
				return nil, nil, loadtest.Fault("Sweeps", "{Sweeps}: "+err.Error())
			}
			if slices.Contains(values, canon) {
				return nil, nil, loadtest.Fault("Sweeps", fmt.Sprintf("{Sweeps}: %s has %s twice", sw.Name, canon))
			}
			values = append(values, canon)
		}
		canonical = append(canonical, loadtest.Sweep{Name: sw.Name, Values: values})
		var next [][]loadtest.Setting
		for _, p := range points {
			for _, v := range values {
				next = append(next, append(slices.Clone(p), loadtest.Setting{Name: sw.Name, Value: v}))
			}
		}
		points = next
	}
	return points, canonical, nil
}

// sweepValue checks v as a value of the setting name and returns it in
// its canonical form.
func sweepValue(name, v string) (string, error) {
	bad := func(want string) error { return fmt.Errorf("%s=%q: want %s", name, v, want) }
	switch name {
	case "rate":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return "", bad("a positive number of requests per second")
		}
		return strconv.FormatFloat(f, 'f', -1, 64), nil
	case "clients", "maxprocs", "cpus":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return "", bad("a whole number of at least 1")
		}
		return strconv.Itoa(n), nil
	case "preempt":
		if v != "async" && v != "off" {
			return "", bad("async (Go's default: a signal preempts a goroutine after 10ms) or off (GODEBUG=asyncpreemptoff=1)")
		}
		return v, nil
	case "longs":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return "", bad("a whole number, 0 or more")
		}
		return strconv.Itoa(n), nil
	case "gil":
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return "", bad("a positive switch interval such as 5ms or 10us")
		}
		return d.String(), nil
	case "request":
		if v == "" || strings.ContainsAny(v, "\r\n") {
			return "", bad("a one-line request such as 1 or 1000")
		}
		return v, nil
	}
	return "", fmt.Errorf("%q is not a setting to sweep", name)
}

// at returns x at the point settings: its scenario, switch intervals or
// GOMAXPROCS set as they say, and no sweeps. A gil point runs the
// Python-mode and CPython rows at that interval, and no Go-mode rows,
// which would be the same at every point.
func (x Experiment) at(settings []loadtest.Setting) (Experiment, error) {
	x.Sweeps = nil
	for _, s := range settings {
		switch s.Name {
		case "rate":
			x.Scenario.Rate, _ = strconv.ParseFloat(s.Value, 64)
		case "clients":
			x.Scenario.Clients, _ = strconv.Atoi(s.Value)
		case "request":
			x.Scenario.Small = s.Value
		case "longs":
			x.Scenario.Longs, _ = strconv.Atoi(s.Value)
		case "maxprocs":
			x.MaxProcs, _ = strconv.Atoi(s.Value)
		case "cpus":
			x.CPUs, _ = strconv.Atoi(s.Value)
		case "preempt":
			x.NoAsyncPreempt = s.Value == "off"
		case "gil":
			d, _ := time.ParseDuration(s.Value)
			x.SwitchIntervals = []time.Duration{d}
		}
	}
	return x, nil
}
