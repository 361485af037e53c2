// Package reexec starts this program again as a child process of a given
// role (a task worker, a server of an experiment) and, in the child,
// dispatches to the role's entry point: the call at the top of main that
// primetime.MaybeWorker is.
package reexec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// EnvMarker is the environment variable that marks a process as a worker
// process: a parent sets it in the environment of each child it starts.
const EnvMarker = "PRIMETIME_WORKER"

// markerValue is EnvMarker's value in a child process.
const markerValue = "1"

// IsWorker reports whether this process was started as a worker process,
// of any role.
func IsWorker() bool { return os.Getenv(EnvMarker) != "" }

// EnvRole is the environment variable that names a worker process's role:
// empty for a task worker.
const EnvRole = "PRIMETIME_ROLE"

// role returns this process's worker role: "" for a task worker.
func role() string { return os.Getenv(EnvRole) }

var roles = map[string]func() error{}

// RegisterRole makes run the entry point of the worker processes started
// with the given role. Packages call it from init functions, so that every
// process of the program has the same roles. It panics on a duplicate.
func RegisterRole(role string, run func() error) {
	if _, dup := roles[role]; dup {
		panic("reexec: role " + role + " registered twice")
	}
	roles[role] = run
}

// RunRole runs the entry point of this process's role other than the task
// worker's, and reports whether there was one.
func RunRole() (bool, error) {
	role := role()
	if role == "" {
		return false, nil
	}
	run, ok := roles[role]
	if !ok {
		return true, fmt.Errorf("reexec: no entry point for the role %q in this program", role)
	}
	return true, run()
}

// HookName names the function a program must call at the top of main so
// that its worker processes work; errors quote it.
const HookName = "primetime.MaybeWorker()"

// HookAdvice ends every error of a child process that does not start: it
// says what the program must add, and where.
const HookAdvice = "the program must call " + HookName + " first thing in main (and in TestMain for tests), before anything else runs"

// Command returns the command that starts a child process of the given
// role ("" for a task worker): the program at path (this program if path is
// empty) with args, marked as a worker in its environment, with its stderr
// on stderr (os.Stderr if nil), and set to die with its parent where the
// system can.
//
// A test binary started again runs none of its tests (-test.run=^$): if its
// TestMain calls the hook, the child serves its role; if it has no
// TestMain, the child runs nothing, exits, and the parent's error names
// the missing call, instead of every test running again in every child.
func Command(path string, args []string, role string, stderr io.Writer, env ...string) (*exec.Cmd, error) {
	if IsWorker() {
		return nil, errors.New("reexec: refusing to start child processes from inside a worker process: " + HookAdvice)
	}
	if path == "" {
		if path = self(); path == "" {
			return nil, errors.New("reexec: cannot find this program to start it again")
		}
	}
	if testing.Testing() && path == self() {
		args = append([]string{"-test.run=^$"}, args...)
	}
	cmd := exec.Command(path, args...)
	// A child's marker and role are its own, whatever this process's are.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, EnvMarker+"=") || strings.HasPrefix(kv, EnvRole+"=")
	})
	cmd.Env = append(cmd.Env, EnvMarker+"="+markerValue)
	if role != "" {
		cmd.Env = append(cmd.Env, EnvRole+"="+role)
	}
	cmd.Env = append(cmd.Env, env...)
	if _, set := os.LookupEnv("GORACE"); !set {
		// A race-enabled worker otherwise sleeps a second as it exits,
		// which makes every Serve of a race-enabled test a second longer.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	cmd.Stderr = stderr
	if stderr == nil {
		cmd.Stderr = os.Stderr
	}
	cmd.SysProcAttr = sysProcAttr()
	return cmd, nil
}

// StartPiped starts cmd with a pipe to its stdin and one from its stdout.
// The stdout pipe is an *os.File of this package's making rather than
// StdoutPipe's, so that its reads take deadlines: they bound a handshake
// and a cancelled task's grace period.
func StartPiped(cmd *exec.Cmd) (stdin io.WriteCloser, stdout *os.File, err error) {
	stdin, err = cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	stdout, childOut, err := os.Pipe()
	if err != nil {
		stdin.Close()
		return nil, nil, err
	}
	cmd.Stdout = childOut
	err = cmd.Start()
	childOut.Close()
	if err != nil {
		stdin.Close()
		stdout.Close()
		return nil, nil, err
	}
	return stdin, stdout, nil
}

// self returns this program's path, or "" if it cannot be found.
func self() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return exe
}

// SharedWriter returns w made safe for the stderr of several child
// processes at once: os/exec copies into a writer that is not a file on a
// goroutine per process. A file, written to by the processes directly, is
// returned as it is.
func SharedWriter(w io.Writer) io.Writer {
	switch w.(type) {
	case *os.File, *lockedWriter:
		return w
	}
	return &lockedWriter{w: w}
}

// A lockedWriter serialises the writes of several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// KilledBySignal reports whether err, a child's exit as [exec.Cmd.Wait]
// returns it, says that a signal ended the child. A child that never
// reached the hook exits by itself; one killed before it was ready was
// stopped from outside, and the hook's advice does not apply.
func KilledBySignal(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}
