package worker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
)

// RunFunc runs the task registered under name. found is false if no task
// has that name.
type RunFunc func(ctx context.Context, name string, payload []byte) (answer []byte, found bool, err error)

// Serve is a worker's serving loop: it writes the handshake, announcing
// names, then runs each task it is sent and writes its answer, until in
// ends. A run whose error wraps badRequest is answered with CodeBadRequest;
// a panic is recovered and answered with CodePanic and its stack. Serve
// returns the error that ended in: io.EOF when the parent closed the
// worker's stdin or died. Tasks still running are abandoned: the caller
// exits.
func Serve(in io.Reader, out io.Writer, names []string, run RunFunc, badRequest error) error {
	s := &child{
		w:          &childWriter{w: bufio.NewWriter(out)},
		run:        run,
		badRequest: badRequest,
		running:    make(map[uint64]context.CancelFunc),
		done:       make(chan error, 1),
	}
	s.br = bufio.NewReader(idleReader(in, s.busyAndIdle))
	if err := s.w.write(kindHello, 0, HelloMessage(names)); err != nil {
		return err
	}
	go s.lead()
	return <-s.done
}

// child is a worker's serving state. One goroutine at a time, the leader,
// reads frames. A leader that reads a run starts the next leader and runs
// the task itself, so that no hand-off between goroutines lies between a
// request's arrival and its task, while cancellations are still read.
type child struct {
	br         *bufio.Reader
	w          *childWriter
	run        RunFunc
	badRequest error
	done       chan error // receives the error that ended reading

	mu      sync.Mutex
	running map[uint64]context.CancelFunc
	queued  bool // the last run came under load: requests had to wait
}

// busyAndIdle reports whether no task is running while the next request
// is likely to come soon: the last one came under load, when requests had
// lately had to wait for a worker.
func (s *child) busyAndIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.running) == 0 && s.queued
}

func (s *child) lead() {
	for {
		f, err := readFrame(s.br)
		if err != nil {
			s.done <- err
			return
		}
		switch f.kind {
		case kindRun, kindRunQueued:
			name, payload, err := parseRun(f.Body)
			if err != nil {
				s.done <- err
				return
			}
			ctx, cancel := context.WithCancel(context.Background())
			s.mu.Lock()
			s.running[f.ID] = cancel
			s.queued = f.kind == kindRunQueued
			s.mu.Unlock()
			go s.lead()
			answerRun(ctx, s.w, f.ID, name, payload, s.run, s.badRequest)
			s.mu.Lock()
			delete(s.running, f.ID)
			s.mu.Unlock()
			cancel()
			return
		case kindCancel:
			s.mu.Lock()
			if cancel, ok := s.running[f.ID]; ok {
				cancel()
			}
			s.mu.Unlock()
		default:
			s.done <- fmt.Errorf("worker: unexpected frame kind %q from the parent", f.kind)
			return
		}
	}
}

func answerRun(ctx context.Context, w *childWriter, id uint64, name string, payload []byte, run RunFunc, badRequest error) {
	kind, parts := outcome(ctx, name, payload, run, badRequest)
	w.write(kind, id, parts...)
}

// outcome runs a task and returns the kind and the body of its answer.
func outcome(ctx context.Context, name string, payload []byte, run RunFunc, badRequest error) (kind, [][]byte) {
	answer, found, stack, err := runRecovered(ctx, name, payload, run)
	switch {
	case stack != nil:
		return kindFail, failBody(CodePanic, err.Error(), stack)
	case !found:
		msg := fmt.Sprintf("task %q is not registered in the worker process: register it with primetime.Register in an init function of the program", name)
		return kindFail, failBody(CodeUnknownTask, msg, nil)
	case err == nil:
		return kindAnswer, [][]byte{answer}
	case errors.Is(err, badRequest):
		return kindFail, failBody(CodeBadRequest, err.Error(), nil)
	case errors.Is(err, context.Canceled):
		return kindFail, failBody(CodeCanceled, err.Error(), nil)
	}
	return kindFail, failBody(CodeFailed, err.Error(), nil)
}

// runRecovered runs a task; a panic becomes its value as an error and the
// stack.
func runRecovered(ctx context.Context, name string, payload []byte, run RunFunc) (answer []byte, found bool, stack []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			answer, found, stack, err = nil, true, debug.Stack(), fmt.Errorf("%v", v)
		}
	}()
	answer, found, err = run(ctx, name, payload)
	return answer, found, nil, err
}

// childWriter serialises the frames of concurrent runs.
type childWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (c *childWriter) write(kind kind, id uint64, parts ...[]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := writeFrame(c.w, kind, id, parts...); err != nil {
		return err
	}
	return c.w.Flush()
}

// A Runner is a task as a worker runs it.
type Runner interface {
	Run(ctx context.Context, payload []byte) ([]byte, error)
}

// Lookup returns the RunFunc that runs the tasks lookup finds by name.
func Lookup[T Runner](lookup func(name string) (T, bool)) RunFunc {
	return func(ctx context.Context, name string, payload []byte) ([]byte, bool, error) {
		t, ok := lookup(name)
		if !ok {
			return nil, false, nil
		}
		answer, err := t.Run(ctx, payload)
		return answer, true, err
	}
}
