// Package jvm runs the lecture's server in Java (LectureServer.java, a
// single source file that java runs as it is), so that an experiment can
// set the JVM's threads beside Go's and CPython's: the lecture's remark
// that "in Java [we] would not see such a decline".
package jvm

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/internal/cpython"
	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/strategy"
)

//go:embed LectureServer.java
var source []byte

// magic starts the line the server prints once it listens.
const magic = "primetime-jvm/1"

// Timing of the server: starting compiles the source first.
const (
	startTimeout = 30 * time.Second
	stopTimeout  = 5 * time.Second
)

// Tasks are the tasks the server computes.
var Tasks = []string{"prime", "sha256"}

// Find returns the java to run: path, or java from PATH if path is empty.
func Find(path string) (string, error) {
	if path == "" {
		path = "java"
	}
	found, err := exec.LookPath(path)
	if err != nil {
		return "", fmt.Errorf("jvm: no java to run the lecture's server in Java (%v): install a JDK, 11 or later (Debian: apt-get install openjdk-17-jdk-headless), or name one with -java", err)
	}
	return found, nil
}

// Version returns the JVM's version, as `java -version` says it first.
func Version(java string) (string, error) {
	out, err := exec.Command(java, "-version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("jvm: %s -version: %w", java, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line, nil
}

// Shape returns the server's arguments that serve the Java counterpart of
// a strategy, and false for a strategy that has none: a thread per
// connection for perconn, a fixed pool of threads for pool:N.
func Shape(d strategy.Description) ([]string, bool) {
	perConn := strategy.Describe(strategy.PerConn())
	pool := strategy.Describe(strategy.Pool(1))
	switch {
	case d.Executor != perConn.Executor:
	case d.Scheduler.Name == perConn.Scheduler.Name:
		return []string{"threads"}, true
	case d.Scheduler.Name == pool.Scheduler.Name:
		return []string{"threadpool", strconv.Itoa(d.Scheduler.Size)}, true
	}
	return nil, false
}

// Options say how the server serves.
type Options struct {
	// Task is what a request computes: "prime" (also "") or "sha256".
	Task string
	// CPUs, if not empty, are the only CPUs the JVM runs on.
	CPUs []int
	// Stderr receives the JVM's stderr; nil means os.Stderr.
	Stderr io.Writer
	// StartTimeout bounds the wait for the server to listen, its
	// compilation included; 0 means 30 s.
	StartTimeout time.Duration
	// Trace, if not empty, is the file that Stop writes the requests'
	// steps to, in the Trace Event Format (as cpython.WriteTrace writes
	// them), kept from Before to After the arrival of the request Long.
	Trace         string
	Label         string // names the server's process in the trace
	Long          string
	Before, After time.Duration
}

// A Server is the lecture's server, running in a JVM.
type Server struct {
	*reexec.Server
	dir string
	o   Options
}

// Start starts java serving the source in shape, and waits until it
// listens.
func Start(java string, shape []string, o Options) (*Server, error) {
	dir, path, err := writeSource()
	if err != nil {
		return nil, err
	}
	args := append([]string{"-XX:+UseSerialGC", "-Xshare:auto", path}, shape...)
	if o.Task != "" {
		args = append(args, "--task", o.Task)
	}
	if o.Trace != "" {
		args = append(args, "--trace", filepath.Join(dir, "trace.log"))
	}
	cmd := exec.Command(java, args...)
	cmd.Stderr = o.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	if cmd, err = reexec.Pin(cmd, o.CPUs); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	within := o.StartTimeout
	if within <= 0 {
		within = startTimeout
	}
	srv, err := reexec.StartServer(cmd, magic, within)
	if err != nil {
		os.RemoveAll(dir)
		var se *reexec.StartError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("jvm: the lecture's server in Java (%s) did not start within %v: %q, %v%s", strings.Join(shape, " "), within.Round(time.Millisecond), se.Line, errors.Join(se.Read, se.Exit), se.Printed())
		}
		return nil, fmt.Errorf("jvm: starting %s: %w", java, err)
	}
	return &Server{Server: srv, dir: dir, o: o}, nil
}

// Stop closes the server's stdin, which ends it, waits for it, and kills
// it if it has not exited in time; then it writes the trace, if asked.
func (s *Server) Stop() error {
	defer os.RemoveAll(s.dir)
	err := s.Server.Stop(stopTimeout)
	if errors.Is(err, reexec.ErrKilled) {
		return errors.New("jvm: the lecture's server did not stop in time; killed")
	}
	if err != nil || s.o.Trace == "" {
		return err
	}
	log, err := os.Open(filepath.Join(s.dir, "trace.log"))
	if err != nil {
		return fmt.Errorf("jvm: the lecture's server left no trace log: %w", err)
	}
	defer log.Close()
	out, err := os.Create(s.o.Trace)
	if err != nil {
		return err
	}
	task := s.o.Task
	if task == "" {
		task = "prime"
	}
	meta := timeline.Meta{Process: s.o.Label, Task: task, PID: s.Pid()}
	return errors.Join(cpython.WriteTrace(log, out, s.o.Long, s.o.Before, s.o.After, meta), out.Close())
}

// NthTime returns how long java takes to compute the nth prime with the
// server's algorithm, its compilation left out.
func NthTime(java string, n int) (time.Duration, error) {
	dir, path, err := writeSource()
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	out, err := exec.Command(java, path, "--nth", strconv.Itoa(n)).Output()
	if err != nil {
		return 0, fmt.Errorf("jvm: timing the %dth prime: %w", n, err)
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 {
		return 0, fmt.Errorf("jvm: timing the %dth prime: %q", n, out)
	}
	secs, err := strconv.ParseFloat(fields[1], 64)
	if err != nil || secs < 0 {
		return 0, fmt.Errorf("jvm: timing the %dth prime: %q", n, out)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// writeSource writes the server's source to a directory of its own.
func writeSource() (dir, path string, err error) {
	if dir, err = os.MkdirTemp("", "primetime-jvm-"); err != nil {
		return "", "", err
	}
	path = filepath.Join(dir, "LectureServer.java")
	if err := os.WriteFile(path, source, 0o644); err != nil {
		os.RemoveAll(dir)
		return "", "", err
	}
	return dir, path, nil
}
