// Package lecture holds what the lecture's servers in other runtimes
// (CPython, the JVM) share: their embedded source, written out to be run;
// their start, awaited until their ready line; their stop; and their logs of
// each request's steps, turned into a trace.
package lecture

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/internal/timeline"
)

// WriteSource writes text to a file called file in a new directory whose
// name starts with prefix, and returns both; the caller removes dir.
func WriteSource(prefix, file string, text []byte) (dir, path string, err error) {
	if dir, err = os.MkdirTemp("", prefix); err != nil {
		return "", "", err
	}
	path = filepath.Join(dir, file)
	if err := os.WriteFile(path, text, 0o644); err != nil {
		os.RemoveAll(dir)
		return "", "", err
	}
	return dir, path, nil
}

// TraceLog is where a server started with a --trace argument logs its
// steps, in its directory.
func TraceLog(dir string) string { return filepath.Join(dir, "trace.log") }

// A Trace says where a server's step log goes as a trace, if anywhere:
// File, kept from Before to After the arrival of the request Long, its
// process called Label, its task Task.
type Trace struct {
	File, Label, Long, Task string
	Before, After           time.Duration
}

// A Server is a lecture's server in another runtime, running from its
// directory.
type Server struct {
	*reexec.Server
	dir, pkg string
	trace    Trace
}

// Start starts cmd, which runs a server from dir, on cpus if any, and waits
// within for its line that starts with magic. On failure it removes dir
// and says so, its error starting with pkg and naming the server what.
func Start(cmd *exec.Cmd, dir string, cpus []int, magic, pkg, what string, within time.Duration, trace Trace) (*Server, error) {
	cmd, err := reexec.Pin(cmd, cpus)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	srv, err := reexec.StartServer(cmd, magic, within)
	if err != nil {
		os.RemoveAll(dir)
		var se *reexec.StartError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s: %s did not start within %v: %q, %v%s", pkg, what, within.Round(time.Millisecond), se.Line, errors.Join(se.Read, se.Exit), se.Printed())
		}
		return nil, fmt.Errorf("%s: starting %s: %w", pkg, cmd.Path, err)
	}
	return &Server{Server: srv, dir: dir, pkg: pkg, trace: trace}, nil
}

// Stop closes the server's stdin, which ends it, waits for it, and kills
// it if it has not exited within timeout; then it writes the trace, if
// asked, and removes the server's directory.
func (s *Server) Stop(timeout time.Duration) error {
	defer os.RemoveAll(s.dir)
	err := s.Server.Stop(timeout)
	if errors.Is(err, reexec.ErrKilled) {
		return fmt.Errorf("%s: the lecture's server did not stop in time; killed", s.pkg)
	}
	if err != nil || s.trace.File == "" {
		return err
	}
	log, err := os.Open(TraceLog(s.dir))
	if err != nil {
		return fmt.Errorf("%s: the lecture's server left no trace log: %w", s.pkg, err)
	}
	defer log.Close()
	out, err := os.Create(s.trace.File)
	if err != nil {
		return err
	}
	meta := timeline.Meta{Process: s.trace.Label, Task: s.trace.Task, PID: s.Pid()}
	return errors.Join(WriteTrace(log, out, s.trace.Long, s.trace.Before, s.trace.After, meta), out.Close())
}

// NthTime runs cmd, a server's program asked for the time of its nth
// prime, which prints "PRIME SECONDS", and returns the seconds; errors
// start with pkg.
func NthTime(cmd *exec.Cmd, pkg string, n int) (time.Duration, error) {
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("%s: timing the %dth prime: %w", pkg, n, err)
	}
	fields := strings.Fields(string(out))
	var secs float64
	if len(fields) == 2 {
		secs, err = strconv.ParseFloat(fields[1], 64)
	}
	if len(fields) != 2 || err != nil || secs < 0 {
		return 0, fmt.Errorf("%s: timing the %dth prime: got %q", pkg, n, out)
	}
	return time.Duration(secs * float64(time.Second)), nil
}
