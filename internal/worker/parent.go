package worker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
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
// safe for concurrent use, except Kill and Close, which may be called at any
// time and more than once.
type Proc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	tasks  map[string]bool
	frames chan Frame    // frames read from the worker; closed when reading stops
	quit   chan struct{} // closed by Kill, to stop the reader
	exited chan struct{} // closed when the process has been waited for
	nextID uint64

	readErr error // why reading stopped; set before frames is closed
	waitErr error // the process's exit; set before exited is closed

	killOnce sync.Once
}

// hookAdvice ends every start-up error: it says what to add and where.
const hookAdvice = "the program must call " + HookName + " first thing in main (and in TestMain for tests), before anything else runs"

// Start starts a worker process and waits for its handshake. A worker that
// exits, writes anything but the handshake, or says nothing within
// StartTimeout is killed, and Start returns an error that names the call the
// program is missing.
func Start(opts Options) (*Proc, error) {
	if IsWorker() {
		return nil, errors.New("refusing to start worker processes from inside a worker process: " + hookAdvice)
	}
	path := opts.Path
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("finding this program to start as a worker: %w", err)
		}
		path = exe
	}
	cmd := exec.Command(path, opts.Args...)
	cmd.Env = append(os.Environ(), EnvMarker+"="+Magic)
	if _, set := os.LookupEnv("GORACE"); !set {
		// A race-enabled worker otherwise sleeps a second as it exits,
		// which makes every Serve of a race-enabled test a second longer.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	cmd.Stderr = opts.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	cmd.SysProcAttr = sysProcAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting worker process: %w", err)
	}
	p := &Proc{
		cmd:    cmd,
		stdin:  stdin,
		frames: make(chan Frame),
		quit:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	go p.read(bufio.NewReader(stdout))
	if err := p.handshake(opts.StartTimeout); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

func (p *Proc) handshake(timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case f, ok := <-p.frames:
		if !ok {
			if errors.Is(p.readErr, io.EOF) {
				<-p.exited
				status := "exit status 0"
				if p.waitErr != nil {
					status = p.waitErr.Error()
				}
				return fmt.Errorf("worker process exited before its handshake (%s): %s", status, hookAdvice)
			}
			return fmt.Errorf("worker process wrote something other than its handshake (%v): %s", p.readErr, hookAdvice)
		}
		names, ok := strings.CutPrefix(string(f.Body), Magic+"\n")
		if f.Kind != KindHello || !ok {
			return fmt.Errorf("worker process sent a %q frame instead of its %s handshake: %s", f.Kind, Magic, hookAdvice)
		}
		p.tasks = make(map[string]bool)
		for _, name := range strings.Split(names, "\n") {
			p.tasks[name] = true
		}
		return nil
	case <-t.C:
		return fmt.Errorf("worker process sent no handshake within %v: %s", timeout, hookAdvice)
	}
}

// read delivers the worker's frames until its stdout ends or Kill, then
// waits for the process.
func (p *Proc) read(r *bufio.Reader) {
	defer close(p.exited)
	for {
		f, err := ReadFrame(r)
		if err != nil {
			p.readErr = err
			break
		}
		select {
		case p.frames <- f:
			continue
		case <-p.quit:
		}
		break
	}
	close(p.frames)
	if p.readErr != nil && !errors.Is(p.readErr, io.EOF) {
		// The worker writes garbage: it cannot be trusted to exit.
		p.cmd.Process.Kill()
	}
	p.waitErr = p.cmd.Wait()
}

// Pid returns the worker's process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Has reports whether the worker has registered a task under name.
func (p *Proc) Has(name string) bool { return p.tasks[name] }

// Dead reports whether the worker process has stopped being usable.
func (p *Proc) Dead() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// ErrExited wraps the error of a call whose worker exited during it.
var ErrExited = errors.New("worker exited")

// A RemoteError is a task's error, as reported by the worker that ran it.
type RemoteError struct {
	Code  Code
	Msg   string
	Stack []byte
}

func (e *RemoteError) Error() string { return e.Msg }

// Call runs task on payload in the worker and returns its answer or its
// error, a *RemoteError. If ctx ends first, Call asks the worker to cancel
// the run and waits up to grace for it to stop; it returns ctx's error.
//
// usable is false when the worker must not be used again: it exited, broke
// the protocol, or did not stop within grace. The caller then kills it.
func (p *Proc) Call(ctx context.Context, task string, payload []byte, grace time.Duration) (answer []byte, err error, usable bool) {
	p.nextID++
	id := p.nextID
	body, err := RunBody(task, payload)
	if err != nil {
		return nil, err, true
	}
	if err := WriteFrame(p.stdin, KindRun, id, body...); err != nil {
		return nil, p.exitError(), false
	}
	select {
	case f, ok := <-p.frames:
		return p.result(f, ok, id)
	case <-ctx.Done():
	}
	if err := WriteFrame(p.stdin, KindCancel, id); err != nil {
		return nil, ctx.Err(), false
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case f, ok := <-p.frames:
		_, _, usable := p.result(f, ok, id)
		return nil, ctx.Err(), usable
	case <-t.C:
		return nil, ctx.Err(), false
	}
}

func (p *Proc) result(f Frame, ok bool, id uint64) ([]byte, error, bool) {
	if !ok {
		return nil, p.exitError(), false
	}
	if f.ID != id {
		return nil, fmt.Errorf("worker answered request %d instead of %d", f.ID, id), false
	}
	switch f.Kind {
	case KindAnswer:
		return f.Body, nil, true
	case KindFail:
		code, msg, stack, err := ParseFail(f.Body)
		if err != nil {
			return nil, err, false
		}
		return nil, &RemoteError{Code: code, Msg: msg, Stack: stack}, true
	}
	return nil, fmt.Errorf("worker sent a %q frame instead of an answer", f.Kind), false
}

// exitError describes why the worker stopped answering.
func (p *Proc) exitError() error {
	select {
	case <-p.exited:
	case <-time.After(time.Second):
		// Its stdout closed but the process lives on; Kill ends it.
		return fmt.Errorf("%w: its output closed", ErrExited)
	}
	if p.waitErr != nil {
		return fmt.Errorf("%w: %v", ErrExited, p.waitErr)
	}
	if p.readErr != nil && !errors.Is(p.readErr, io.EOF) {
		return fmt.Errorf("%w: %v", ErrExited, p.readErr)
	}
	return fmt.Errorf("%w with status 0", ErrExited)
}

// Kill kills the worker and waits for it.
func (p *Proc) Kill() {
	p.killOnce.Do(func() {
		close(p.quit)
		p.cmd.Process.Kill()
		p.stdin.Close()
	})
	<-p.exited
}

// Close asks the worker to exit by closing its stdin, waits up to grace for
// it to exit, and kills it if it has not.
func (p *Proc) Close(grace time.Duration) {
	p.stdin.Close()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
	}
	p.Kill()
}
