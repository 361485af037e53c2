package worker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/primetime-lab/primetime/internal/reexec"
)

// Options say how to start a worker process.
type Options struct {
	// Path is the program to run; empty means this program
	// (os.Executable).
	Path string
	// Args are its arguments, after the program name.
	Args []string
	// StartTimeout bounds the wait for the handshake.
	StartTimeout time.Duration
	// Stderr receives the worker's stderr; nil means os.Stderr.
	Stderr io.Writer
}

// A Proc is the parent's handle on one worker process. Its methods are not
// safe for concurrent use; Kill and Close may be called more than once.
type Proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *os.File
	br     *bufio.Reader
	tasks  map[string]bool
	nextID uint64
	dead   bool // reading or writing failed; the worker must not be used

	stopOnce sync.Once
	waitErr  error // the process's exit, once stopOnce has run
}

// Start starts a worker process and waits for its handshake. A worker that
// exits, writes anything but the handshake, or says nothing within
// StartTimeout is killed, and Start returns an error that names the call the
// program is missing. A worker killed by a signal before its handshake was
// stopped from outside, not missing that call: the error then wraps
// [ErrExited], as a worker's death during a task does.
func Start(opts Options) (*Proc, error) {
	cmd, err := reexec.Command(opts.Path, opts.Args, "", opts.Stderr)
	if err != nil {
		return nil, err
	}
	// A worker runs one task at a time, like one interpreter thread, so
	// one P is all it needs; a second only costs wake-ups between the
	// goroutine that reads a request and the one that runs it, and makes
	// the round trip about three times longer.
	cmd.Env = append(cmd.Env, "GOMAXPROCS=1")
	stdin, stdout, err := reexec.StartPiped(cmd)
	if err != nil {
		return nil, fmt.Errorf("starting worker process: %w", err)
	}
	p := &Proc{cmd: cmd, stdin: stdin, stdout: stdout, br: bufio.NewReader(stdout)}
	if err := p.handshake(opts.StartTimeout); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

func (p *Proc) handshake(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	p.stdout.SetReadDeadline(deadline)
	f, err := readFrame(p.br)
	p.stdout.SetReadDeadline(time.Time{})
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("worker process sent no handshake within %v: %s", timeout, reexec.HookAdvice)
	case errors.Is(err, io.EOF):
		// Its stdout closed: it is exiting, or killed. Wait for its own
		// status (killing it only if it outlives the deadline), so that
		// a kill from outside is told from an exit.
		switch {
		case p.awaitExit(time.Until(deadline)):
			return fmt.Errorf("worker process closed its stdout without a handshake: %s", reexec.HookAdvice)
		case reexec.KilledBySignal(p.waitErr):
			return fmt.Errorf("%w before its handshake (%v)", ErrExited, p.waitErr)
		}
		return fmt.Errorf("worker process exited before its handshake (%s): %s", p.exitStatus(), reexec.HookAdvice)
	case err != nil:
		return fmt.Errorf("worker process wrote something other than its handshake (%v): %s", err, reexec.HookAdvice)
	}
	tasks, herr := ParseHello(f.Body)
	if f.kind != kindHello || herr != nil {
		return fmt.Errorf("worker process sent a %q frame instead of its %s handshake: %s", f.kind, magic, reexec.HookAdvice)
	}
	p.tasks = tasks
	return nil
}

// Pid returns the worker's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Has reports whether the worker has registered a task under name.
func (p *Proc) Has(name string) bool { return p.tasks[name] }

// ErrExited wraps the error of a call whose worker exited during it, and
// that of a Start whose worker was killed before its handshake: the worker
// was lost, and a new one may take its place.
var ErrExited = errors.New("worker exited")

// ErrNotDelivered wraps the error of a call whose request never reached
// the worker, which had already exited: the task did not run, and the call
// can be made again on another worker.
var ErrNotDelivered = errors.New("request not delivered")

// A RemoteError is a task's error, as reported by the worker that ran it.
type RemoteError struct {
	Code  Code
	Msg   string
	Stack []byte
}

// Error returns the message the worker reported.
func (e *RemoteError) Error() string { return e.Msg }

// Call runs task on payload in the worker and returns its answer or its
// error, a *RemoteError. If ctx ends first, Call asks the worker to cancel
// the run and waits up to grace for it to stop; it returns ctx's error.
// queued says that requests have lately had to wait for a worker, so that
// the worker can expect its next request soon.
//
// usable is false when the worker must not be used again: it exited, broke
// the protocol, or did not stop within grace. The caller then kills it.
func (p *Proc) Call(ctx context.Context, task string, payload []byte, grace time.Duration, queued bool) (answer []byte, usable bool, err error) {
	if p.dead {
		return nil, false, ErrExited
	}
	p.nextID++
	id := p.nextID
	body, err := runBody(task, payload)
	if err != nil {
		return nil, true, err
	}
	kind := kindRun
	if queued {
		kind = kindRunQueued
	}
	if err := writeFrame(p.stdin, kind, id, body...); err != nil {
		p.dead = true
		return nil, false, fmt.Errorf("%w: %w", ErrNotDelivered, p.exitError(err))
	}

	// The answer is read on this goroutine; a cancellation, rare, gets a
	// goroutine of its own that sends the cancel frame and, after grace,
	// ends the read.
	answered := make(chan struct{})
	cancelDone := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(cancelDone)
		if writeFrame(p.stdin, kindCancel, id) == nil {
			t := time.NewTimer(grace)
			defer t.Stop()
			select {
			case <-answered:
				return
			case <-t.C:
			}
		}
		p.stdout.SetReadDeadline(aLongTimeAgo)
	})
	f, err := readFrame(p.br)
	close(answered)
	if !stop() {
		<-cancelDone
		if ctx.Err() != nil && err == nil {
			_, usable, _ = p.result(f, id)
			return nil, usable, ctx.Err()
		}
	}
	if err != nil {
		p.dead = true
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, p.exitError(err)
	}
	return p.result(f, id)
}

var aLongTimeAgo = time.Unix(1, 0)

func (p *Proc) result(f frame, id uint64) ([]byte, bool, error) {
	if f.ID != id {
		p.dead = true
		return nil, false, fmt.Errorf("worker answered request %d instead of %d", f.ID, id)
	}
	switch f.kind {
	case kindAnswer:
		return f.Body, true, nil
	case kindFail:
		code, msg, stack, err := parseFail(f.Body)
		if err != nil {
			p.dead = true
			return nil, false, err
		}
		return nil, true, &RemoteError{Code: code, Msg: msg, Stack: stack}
	}
	p.dead = true
	return nil, false, fmt.Errorf("worker sent a %q frame instead of an answer", f.kind)
}

// exitError describes why the worker stopped answering: it reaps the
// process and reports its exit status, or the protocol error.
func (p *Proc) exitError(ioErr error) error {
	if errors.Is(ioErr, io.EOF) || errors.Is(ioErr, io.ErrUnexpectedEOF) || errors.Is(ioErr, syscall.EPIPE) {
		return fmt.Errorf("%w: %s", ErrExited, p.exitStatus())
	}
	return fmt.Errorf("worker broke the protocol: %w", ioErr)
}

// exitStatus kills the worker, if it still runs, reaps it and describes how
// it ended. A worker that exited by itself keeps its own status: killing a
// process that has exited but not been waited for changes nothing.
func (p *Proc) exitStatus() string {
	p.Kill()
	if p.waitErr == nil {
		return "exit status 0"
	}
	return p.waitErr.Error()
}

// Kill kills the worker and waits for it.
func (p *Proc) Kill() {
	p.stopOnce.Do(func() {
		p.cmd.Process.Kill()
		p.reap()
	})
}

// awaitExit waits for a worker that is exiting by itself, kills it if it
// has not exited within d, and reports whether it had to.
func (p *Proc) awaitExit(d time.Duration) (killed bool) {
	p.stopOnce.Do(func() {
		t := time.AfterFunc(max(d, 0), func() { p.cmd.Process.Kill() })
		p.reap()
		killed = !t.Stop()
	})
	return killed
}

// Close asks the worker to exit by closing its stdin, waits up to grace for
// it to exit, and kills it if it has not.
func (p *Proc) Close(grace time.Duration) {
	p.stopOnce.Do(func() {
		p.stdin.Close()
		t := time.AfterFunc(grace, func() { p.cmd.Process.Kill() })
		defer t.Stop()
		p.reap()
	})
}

func (p *Proc) reap() {
	p.dead = true
	p.waitErr = p.cmd.Wait()
	p.stdout.Close()
}
