// Package jvm runs the lecture's server in Java (LectureServer.java, a
// single source file that java runs as it is), so that an experiment can
// set the JVM's threads beside Go's and CPython's: the lecture's remark
// that "in Java [we] would not see such a decline".
package jvm

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/internal/lecture"
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

// VirtualThreads is the first Java release with virtual threads.
const VirtualThreads = 21

// Major returns the release in a `java -version` line: 17 for
// `openjdk version "17.0.15" 2025-04-15`, 8 for "1.8.0_392", 0 if the
// line names none.
func Major(version string) int {
	_, quoted, ok := strings.Cut(version, `"`)
	if !ok {
		return 0
	}
	quoted, _, _ = strings.Cut(quoted, `"`)
	quoted = strings.TrimPrefix(quoted, "1.")
	digits := strings.IndexFunc(quoted, func(r rune) bool { return r < '0' || r > '9' })
	if digits >= 0 {
		quoted = quoted[:digits]
	}
	n, err := strconv.Atoi(quoted)
	if err != nil {
		return 0
	}
	return n
}

// Shape returns the server's arguments that serve the Java counterpart of
// a strategy, and false for a strategy that has none: a thread per
// connection for perconn (a virtual thread if virtual says so), a fixed
// pool of threads for pool:N.
func Shape(d strategy.Description, virtual bool) ([]string, bool) {
	perConn := strategy.Describe(strategy.PerConn())
	pool := strategy.Describe(strategy.Pool(1))
	switch {
	case d.Executor != perConn.Executor:
	case d.Scheduler.Name == perConn.Scheduler.Name && virtual:
		return []string{"virtual"}, true
	case d.Scheduler.Name == perConn.Scheduler.Name:
		return []string{"threads"}, true
	case virtual:
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
	// steps to, in the Trace Event Format (lecture.WriteTrace), kept from
	// Before to After the arrival of the request Long.
	Trace         string
	Label         string // names the server's process in the trace
	Long          string
	Before, After time.Duration
}

// A Server is the lecture's server, running in a JVM; Addr is the
// loopback address it serves on.
type Server struct{ *lecture.Server }

// Start starts java serving the source in shape, and waits until it
// listens.
func Start(java string, shape []string, o Options) (*Server, error) {
	dir, path, err := writeSource()
	if err != nil {
		return nil, err
	}
	args := append([]string{"-XX:+UseSerialGC", "-Xshare:auto", path}, shape...)
	task := o.Task
	if task == "" {
		task = "prime"
	}
	args = append(args, "--task", task)
	if o.Trace != "" {
		args = append(args, "--trace", lecture.TraceLog(dir))
	}
	cmd := exec.Command(java, args...)
	cmd.Stderr = o.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	within := o.StartTimeout
	if within <= 0 {
		within = startTimeout
	}
	trace := lecture.Trace{File: o.Trace, Label: o.Label, Long: o.Long, Task: task, Before: o.Before, After: o.After}
	srv, err := lecture.Start(cmd, dir, o.CPUs, magic, "jvm", "the lecture's server in Java ("+strings.Join(shape, " ")+")", within, trace)
	if err != nil {
		return nil, err
	}
	return &Server{srv}, nil
}

// Stop closes the server's stdin, which ends it, waits for it, and kills
// it if it has not exited in time; then it writes the trace, if asked.
func (s *Server) Stop() error { return s.Server.Stop(stopTimeout) }

// NthTime returns how long java takes to compute the nth prime with the
// server's algorithm, its compilation left out.
func NthTime(java string, n int) (time.Duration, error) {
	dir, path, err := writeSource()
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	return lecture.NthTime(exec.Command(java, path, "--nth", strconv.Itoa(n)), "jvm", n)
}

// writeSource writes the server's source to a directory of its own.
func writeSource() (dir, path string, err error) {
	return lecture.WriteSource("primetime-jvm-", "LectureServer.java", source)
}
