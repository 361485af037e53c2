// Package cpython runs the lecture's server under CPython
// (lecture_server.py, embedded in the program), so that an experiment can
// measure the real thing beside Python mode.
package cpython

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/internal/cpus"
	"github.com/primetime-lab/primetime/internal/lecture"
	"github.com/primetime-lab/primetime/internal/wire"
	"github.com/primetime-lab/primetime/strategy"
)

// script is lecture_server.py, the lecture's server in Python.
//
//go:embed lecture_server.py
var script []byte

// magic starts the line in which the script reports its address.
const magic = "primetime-cpython/1"

// Timing of a server's life: startTimeout bounds a start unless Options
// say otherwise.
const (
	startTimeout = 10 * time.Second
	stopTimeout  = 10 * time.Second
)

// Find returns the Python to run: path if it is not empty, python3 from
// PATH otherwise, or an error that says how to get one.
func Find(path string) (string, error) {
	if path == "" {
		path = "python3"
	}
	found, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("cpython: no Python to run the lecture's server (%v): install python3 (3.10 or later; apt-get install python3) or name one with -python", err)
	}
	return found, nil
}

// Version returns the Python's version, as "Python 3.11.2".
func Version(python string) (string, error) {
	out, err := exec.Command(python, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("cpython: %s --version: %w", python, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// freeThreadedProbe prints whether the interpreter was built without the
// lock (PEP 703's Py_GIL_DISABLED) and whether the lock is on now.
const freeThreadedProbe = `import sys, sysconfig; print(int(bool(sysconfig.get_config_var("Py_GIL_DISABLED"))), int(getattr(sys, "_is_gil_enabled", lambda: True)()))`

// FreeThreaded reports whether python is a free-threaded build (3.13t,
// 3.14t) running without its lock, as the lecture's server would then
// run: a build without the lock whose lock was turned back on (PYTHON_GIL=1)
// is not.
func FreeThreaded(python string) (bool, error) {
	out, err := exec.Command(python, "-c", freeThreadedProbe).Output()
	if err != nil {
		return false, fmt.Errorf("cpython: asking %s whether it has the lock: %w", python, err)
	}
	var built, enabled int
	if _, err := fmt.Sscan(string(out), &built, &enabled); err != nil {
		return false, fmt.Errorf("cpython: %s answered %q to whether it has the lock", python, out)
	}
	return built == 1 && enabled == 0, nil
}

// names are the names of the parts the lecture has, as package strategy's
// descriptions give them.
var names = struct{ serial, perConn, pool, loop, inline, goroutines, procs string }{
	serial:     strategy.Describe(strategy.Serial()).Scheduler.Name,
	perConn:    strategy.Describe(strategy.PerConn()).Scheduler.Name,
	pool:       strategy.Describe(strategy.Pool(1)).Scheduler.Name,
	loop:       strategy.Describe(strategy.Loop()).Scheduler.Name,
	inline:     strategy.Describe(strategy.Loop()).Executor.Name,
	goroutines: strategy.Describe(strategy.LoopWithOffload(strategy.Goroutines(1))).Executor.Name,
	procs:      strategy.Describe(strategy.ProcessPool(1)).Executor.Name,
}

// Shape returns the script's arguments that serve the lecture's
// counterpart of a strategy, and false for a strategy the lecture has none
// of. A size left out (procs) means one per CPU, as in Go.
func Shape(d strategy.Description) ([]string, bool) {
	sched, exec := d.Scheduler, d.Executor
	size := func(p strategy.Part) string {
		return strconv.Itoa(cpus.Or(p.Size))
	}
	switch {
	case exec.Name == names.inline:
		switch sched.Name {
		case names.serial:
			return []string{"serial"}, true
		case names.perConn:
			return []string{"threads"}, true
		case names.pool:
			return []string{"threadpool", size(sched)}, true
		case names.loop:
			return []string{"asyncio"}, true
		}
	case sched.Name == names.perConn && exec.Name == names.procs:
		return []string{"procpool", size(exec)}, true
	case sched.Name == names.loop && exec.Name == names.goroutines:
		return []string{"asyncio-threads", size(exec)}, true
	case sched.Name == names.loop && exec.Name == names.procs:
		return []string{"asyncio-procs", size(exec)}, true
	}
	return nil, false
}

// protocols are the wire protocols the script speaks.
var protocols = []wire.Protocol{wire.Line, wire.Recv}

// Speaks reports whether the lecture's server speaks protocol p.
func Speaks(p wire.Protocol) bool { return p == "" || slices.Contains(protocols, p) }

// A Server is the lecture's server in a child process; Addr is the
// loopback address it serves on.
type Server struct{ *lecture.Server }

// Stop closes the server's stdin, which ends it, waits for it, and kills
// it if it has not exited in time; then it writes the trace, if asked.
func (s *Server) Stop() error { return s.Server.Stop(stopTimeout) }

// Options say how the script serves.
type Options struct {
	// SwitchInterval is sys.setswitchinterval's.
	SwitchInterval time.Duration
	// Protocol is the wire protocol; empty means the line protocol.
	Protocol string
	// Task is what a request computes: "prime" (also "") or "sha256".
	Task string
	// CPUs, if not empty, are the only CPUs the server and its worker
	// processes run on.
	CPUs []int
	// Stderr receives the script's stderr; nil means os.Stderr.
	Stderr io.Writer
	// StartTimeout bounds the wait for the server to listen; 0 means
	// 10 s.
	StartTimeout time.Duration
	// Trace, if not empty, is the file that Stop writes the requests'
	// steps to, in the Trace Event Format (see WriteTrace), kept from
	// Before to After the arrival of the request Long.
	Trace         string
	Label         string // names the server's process in the trace
	Long          string
	Before, After time.Duration
}

// Tasks are the tasks the script computes: the prime task and sha256.
var Tasks = []string{"prime", "sha256"}

// Start starts python serving the script in shape, as o says, and waits
// until it listens.
func Start(python string, shape []string, o Options) (*Server, error) {
	dir, path, err := lecture.WriteSource("primetime-cpython-", "lecture_server.py", script)
	if err != nil {
		return nil, err
	}
	args := append([]string{path}, shape...)
	args = append(args, "--switch-interval", strconv.FormatFloat(o.SwitchInterval.Seconds(), 'g', -1, 64))
	if o.Protocol != "" {
		args = append(args, "--protocol", o.Protocol)
	}
	if o.Task != "" {
		args = append(args, "--task", o.Task)
	}
	if o.Trace != "" {
		args = append(args, "--trace", lecture.TraceLog(dir))
	}
	cmd := exec.Command(python, args...)
	cmd.Stderr = o.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	within := o.StartTimeout
	if within <= 0 {
		within = startTimeout
	}
	task := o.Task
	if task == "" {
		task = "prime"
	}
	trace := lecture.Trace{File: o.Trace, Label: o.Label, Long: o.Long, Task: task, Before: o.Before, After: o.After}
	srv, err := lecture.Start(cmd, dir, o.CPUs, magic, "cpython", "the lecture's server ("+strings.Join(shape, " ")+")", within, trace)
	if err != nil {
		return nil, err
	}
	return &Server{srv}, nil
}

// NthTime returns how long python takes to compute the nth prime with the
// script's algorithm.
func NthTime(python string, n int) (time.Duration, error) {
	dir, path, err := lecture.WriteSource("primetime-cpython-", "lecture_server.py", script)
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	return lecture.NthTime(exec.Command(python, path, "serial", "--nth", strconv.Itoa(n)), "cpython", n)
}
