package lab

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/compare"
	"github.com/primetime-lab/primetime/strategy"
)

// The runtimes a lab's server runs in.
const (
	RuntimeGo      = "go"      // Go's scheduler
	RuntimePython  = "python"  // Go with an emulated GIL (Python mode)
	RuntimeCPython = "cpython" // the lecture's own server, under CPython
	RuntimeJVM     = "jvm"     // the lecture's server in Java, a thread per connection or a pool
)

// Runtimes are the runtimes the page offers, in its order.
var Runtimes = []string{RuntimeGo, RuntimePython, RuntimeCPython, RuntimeJVM}

// Bounds of what the page may ask for.
const (
	MaxClients = 64
	maxGIL     = 2 * time.Second
	maxSmallN  = 1000
	maxLongN   = 200_000
)

// Settings are what the page asks the lab to run. Every field is checked
// by the parser the command uses for it; nothing becomes a command line.
type Settings struct {
	Strategy string `json:"strategy"`
	Runtime  string `json:"runtime"`
	// GIL is the switch interval of Python mode and CPython ("5ms");
	// empty means 5 ms, and Go ignores it.
	GIL     string `json:"gil,omitempty"`
	Clients int    `json:"clients,omitempty"`
	Task    string `json:"task,omitempty"`
	// Small and Long are the small and the long request: n of the task.
	Small string `json:"small,omitempty"`
	Long  string `json:"long,omitempty"`
	// Lanes has a Go or Python-mode server record its timeline, so that
	// the page draws who ran when as each long request arrived. The
	// recording slows the server (BENCHMARKS.md, "The lab").
	Lanes bool `json:"lanes,omitempty"`
}

// experiment checks s and returns the experiment of its server, with s as
// it will run, defaults filled in; row labels the server among the
// experiment's rows.
func (s Settings) experiment() (compare.Experiment, Settings, error) {
	parsed, err := strategy.Parse(s.Strategy)
	if err != nil {
		return compare.Experiment{}, s, fmt.Errorf("strategy %q: %w", s.Strategy, errors.Unwrap(err))
	}
	s.Strategy = parsed.String()
	if s.Task == "" {
		s.Task = primetime.Prime.Name()
	}
	task, ok := primetime.Lookup(s.Task)
	if !ok {
		return compare.Experiment{}, s, fmt.Errorf("task %q is not a registered task", s.Task)
	}
	if s.Clients == 0 {
		s.Clients = loadtest.DefaultClients
	}
	if s.Clients < 1 || s.Clients > MaxClients {
		return compare.Experiment{}, s, fmt.Errorf("clients %d: from 1 to %d", s.Clients, MaxClients)
	}
	if s.Small == "" {
		s.Small = loadtest.DefaultSmall
	}
	if s.Long == "" {
		s.Long = loadtest.DefaultLong
	}
	for _, r := range []struct {
		name, n string
		max     int
	}{{"small", s.Small, maxSmallN}, {"long", s.Long, maxLongN}} {
		if n, err := strconv.Atoi(r.n); err != nil || n < 1 || n > r.max {
			return compare.Experiment{}, s, fmt.Errorf("%s request %q: a whole number from 1 to %d", r.name, r.n, r.max)
		}
	}
	x := compare.Experiment{Strategies: []string{s.Strategy}, Task: s.Task}
	if s.Task != primetime.Prime.Name() {
		x.Scenario.Check = loadtest.TaskAnswers(task)
	}
	x.Scenario.Small, x.Scenario.Long, x.Scenario.Clients = s.Small, s.Long, s.Clients
	switch s.Runtime {
	case RuntimeGo:
		s.GIL = ""
	case RuntimeJVM:
		s.GIL, x.JVM = "", true
	case RuntimePython, RuntimeCPython:
		if s.GIL == "" {
			s.GIL = "5ms"
		}
		gil, err := time.ParseDuration(s.GIL)
		if err != nil || gil <= 0 || gil > maxGIL {
			return compare.Experiment{}, s, fmt.Errorf("switch interval %q: a duration from 1µs to %v", s.GIL, maxGIL)
		}
		if s.Runtime == RuntimePython {
			x.SwitchIntervals = []time.Duration{gil}
		} else {
			x.CPython, x.SwitchIntervals = true, []time.Duration{gil}
		}
	default:
		return compare.Experiment{}, s, fmt.Errorf("runtime %q: give one of %s", s.Runtime, strings.Join(Runtimes, ", "))
	}
	return x, s, nil
}

// row returns the label of the settings' server among its experiment's
// rows.
func (s Settings) row() string {
	gil, _ := time.ParseDuration(s.GIL)
	switch s.Runtime {
	case RuntimePython:
		return loadtest.Row{Strategy: s.Strategy, GIL: gil}.Label()
	case RuntimeCPython:
		return loadtest.Row{Strategy: s.Strategy, GIL: gil, Runtime: "cpython"}.Label()
	case RuntimeJVM:
		return loadtest.Row{Strategy: s.Strategy, Runtime: "jvm"}.Label()
	}
	return loadtest.Row{Strategy: s.Strategy}.Label()
}
