// Package strategy holds the scheduling strategies a server can use: who
// serves connections, and where their tasks run.
//
// A Strategy is a point on two independent axes. The first is the connection
// scheduler:
//
//   - [Serial]: one connection at a time, on one goroutine; the next
//     connection is accepted when the current one closes.
//   - [PerConn]: a goroutine per connection.
//   - [Pool]: at most n connections served at once; the others are accepted
//     and wait their turn in a first-come, first-served queue.
//   - [Loop]: an event loop, as asyncio's: on Linux one goroutine, locked to
//     its OS thread, owns every connection's socket and runs every request,
//     one at a time; a slow request stalls every connection.
//
// The second is the [Executor], where each request's task runs: [Inline], on
// the goroutine that handles the request, [Goroutines], a pool of worker
// goroutines, or [Processes], a pool of worker processes. [Offload] moves
// any scheduler's tasks onto an executor, and [LoopWithOffload] is the Loop
// whose tasks run elsewhere, as asyncio's run_in_executor does: the loop
// hands the task over and goes on, and learns of its answer through a
// wake-up descriptor. [ProcessPool] is PerConn with a process pool.
//
// Both axes are open: a [Scheduler] or an [Executor] written elsewhere
// becomes a Strategy with [New] and [Offload], and has a text form once
// registered with [RegisterScheduler] or [RegisterExecutor].
//
// In Python mode the server's [Env] carries an [Interpreter], the emulated
// lock: connection goroutines, the loop and goroutine-pool workers are its
// threads, and it charges the interpreter's costs ([PythonCosts]).
//
// Strategies have a text form, returned by String and read by [Parse]:
// "serial", "perconn", "pool:8", "loop", "loop+goroutines:4", "procpool:2",
// "loop+procs:2", and in general a scheduler and an optional executor joined
// by "+" ("pool:8+goroutines:2").
//
// A Strategy describes; it holds no running state. Each call of its Serve
// method starts its own executor and stops it before returning, so one
// Strategy value can serve many servers, one after the other or at once.
package strategy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
)

// A Strategy serves the connections of a [Listener]: it decides which
// goroutine reads and answers each connection's requests, and where each
// request's task runs.
//
// Serve accepts connections until Accept returns an error, waits for every
// connection it accepted to close, stops its executor, and returns the error
// from Accept. It closes each connection it has finished with, but not the
// listener.
//
// Package server implements Listener and Conn; most programs use a
// Strategy by setting server.Server's Strategy field rather than by calling
// Serve. The strategies of this package are a [Scheduler] and an
// [Executor]; [New] makes one of a scheduler written elsewhere.
type Strategy interface {
	Serve(l Listener, env Env) error
	String() string
}

// Env is what a strategy, and its executor, are told about the server they
// serve.
type Env struct {
	// Python is the interpreter lock of Python mode, or nil in Go mode.
	Python *Interpreter
	// Task is what the server's requests run, so that an executor can
	// check at start that it can run it; nil if unknown.
	Task primetime.Task
	// Metrics, if not nil, receives the counts of the executor's worker
	// processes.
	Metrics *Metrics
}

// Metrics are what a strategy's executor counts while it serves, for the
// server to show; the zero value is ready to use.
type Metrics struct {
	workersAlive     atomic.Int64
	workersRestarted atomic.Uint64
}

// WorkersAlive returns how many worker processes run now.
func (m *Metrics) WorkersAlive() int64 { return m.workersAlive.Load() }

// WorkersRestarted returns how many worker processes were started in place
// of one that died or was killed.
func (m *Metrics) WorkersRestarted() uint64 { return m.workersRestarted.Load() }

func (m *Metrics) started(restart bool) {
	if m == nil {
		return
	}
	m.workersAlive.Add(1)
	if restart {
		m.workersRestarted.Add(1)
	}
}

func (m *Metrics) ended() {
	if m != nil {
		m.workersAlive.Add(-1)
	}
}

// Run runs t on payload on the calling goroutine, as a thread of the
// interpreter in Python mode (it holds the lock, and t's checkpoints yield
// it), and turns a panic of t into a [*PanicError]: what an executor's
// worker calls to run a task in this process.
func (env Env) Run(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error) {
	th := env.Python.lock().NewThread()
	th.Take()
	defer th.Drop()
	return runTask(gil.WithThread(ctx, th), t, payload)
}

// A Listener yields connections for a [Strategy] to serve. Package server
// implements it on top of a [net.Listener].
type Listener interface {
	// Accept waits for the next connection. Once it returns an error, it
	// returns an error on every later call.
	Accept() (Conn, error)
}

// A Conn is one client connection: a sequence of requests, each answered
// in order before the next is read.
type Conn interface {
	// ReadRequest waits for the next request. It returns an error when the
	// connection has no more requests: the client closed it, it was idle too
	// long, the server is shutting down, or the request was malformed
	// beyond an error answer. The Conn answers malformed requests itself.
	ReadRequest() (Request, error)
	// WriteAnswer answers the request last read: with answer if err is nil,
	// otherwise with an error answer that describes err. It returns an error
	// if the connection can no longer be used.
	WriteAnswer(answer []byte, err error) error
	// Close closes the connection. It may be called more than once.
	Close() error
}

// A Request is one request read from a [Conn]: run Task on Payload, under
// Context.
type Request struct {
	// Context is done when the request should stop: its client went away,
	// or the server is closing.
	Context context.Context
	// Task is the work the request asks for.
	Task primetime.Task
	// Payload is the task's input. It is valid until the answer is written.
	Payload []byte
}

// strategy is every Strategy of this package: a scheduler and an executor.
type strategy struct {
	sched Scheduler
	exec  Executor
}

// New returns the strategy that serves connections with sched and runs
// their tasks with e (Inline() if nil). sched may come from anywhere: this
// is how a scheduler written outside this package becomes a Strategy, which
// [Offload] and [Parse] (once the scheduler is registered) combine with any
// executor.
func New(sched Scheduler, e Executor) Strategy {
	if sched == nil {
		panic("strategy: New with a nil Scheduler")
	}
	if e == nil {
		e = Inline()
	}
	return strategy{sched: sched, exec: e}
}

// Serial returns the strategy that serves one connection at a time on one
// goroutine and accepts the next connection only when the current one
// closes. A client that keeps its connection open keeps every other client
// out.
func Serial() Strategy { return New(serial{}, nil) }

// PerConn returns the strategy that serves each connection on a goroutine of
// its own, as a thread-per-connection server does.
func PerConn() Strategy { return New(perConn{}, nil) }

// Pool returns the strategy that serves at most n connections at once, each
// on a goroutine of its own. Further connections are accepted and wait, in
// the order they arrived, until one of the n closes. Pool panics if n < 1.
func Pool(n int) Strategy {
	if n < 1 {
		panic("strategy: Pool size must be at least 1")
	}
	return New(pool{n: n}, nil)
}

// Loop returns the strategy that runs every request of every connection on
// one event loop, one at a time and in the order they come, as asyncio's
// does: while one request's task runs, no other connection gets an
// answer.
//
// On Linux, with package server's listener, the loop is one goroutine
// locked to its OS thread that owns an epoll instance and every
// connection's non-blocking socket, buffers and timers: no goroutine per
// connection, so an idle connection costs a few hundred bytes, and the loop
// has one core. Elsewhere, or with another Listener, connections are read
// on goroutines of their own and the loop is a role passed among them, with
// the same order.
func Loop() Strategy { return New(loop{}, nil) }

// LoopWithOffload returns the [Loop] whose tasks run on e, as asyncio's
// run_in_executor does: the loop hands each task to e and goes on with other
// requests until the task's answer comes back.
func LoopWithOffload(e Executor) Strategy { return Offload(Loop(), e) }

// Offload returns s with its tasks run on e instead of where s runs them.
// s must be a Strategy from this package, or made by [New]; Offload panics
// otherwise.
func Offload(s Strategy, e Executor) Strategy {
	st, ok := s.(strategy)
	if !ok {
		panic(fmt.Sprintf("strategy: Offload of a Strategy not made by this package (%T): make it with strategy.New from a Scheduler", s))
	}
	if e == nil {
		panic("strategy: Offload with a nil Executor")
	}
	st.exec = e
	return st
}

// String returns the strategy's text form, which [Parse] reads back: the
// scheduler's, and "+" and the executor's unless it is inline. PerConn with
// processes is "procpool:N".
func (s strategy) String() string {
	if _, ok := s.exec.(inline); ok {
		return s.sched.String()
	}
	if procs, ok := s.exec.(processes); ok {
		if _, ok := s.sched.(perConn); ok {
			return strings.Replace(procs.String(), "procs", "procpool", 1)
		}
	}
	return s.sched.String() + "+" + s.exec.String()
}

// Serve implements [Strategy].
func (s strategy) Serve(l Listener, env Env) error {
	r, err := s.exec.Start(env)
	if err != nil {
		return err
	}
	run := asRunner(r)
	defer run.Stop()
	lock := env.Python.lock()
	if _, ok := s.sched.(loop); ok {
		return serveLoop(l, run, lock, env.Python.charges())
	}
	return s.sched.Schedule(l, handler{run: run, lock: lock})
}

// handler is the Handler a strategy gives its scheduler.
type handler struct {
	run  runner
	lock *gil.GIL
}

func (h handler) ServeConn(c Conn) { serveConn(c, h.run, h.lock.NewThread()) }

// serveConn answers c's requests in order on the calling goroutine, running
// each task with run, until the connection is done; then it closes c.
//
// In Python mode the goroutine is an interpreter thread: it holds the lock
// from the moment a request has been read until its answer is ready, and
// not while it reads or writes the connection, as a Python thread releases
// the lock in recv and send; it takes it once more between the two.
func serveConn(c Conn, run runner, th *gil.Thread) {
	defer c.Close()
	for {
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		th.Take()
		answer, err := run.run(gil.WithThread(req.Context, th), req.Task, req.Payload)
		th.Drop()
		if c.WriteAnswer(answer, err) != nil {
			return
		}
		// CPython takes the lock back after send, before the next recv
		// releases it: a second wait for it.
		th.Take()
		th.Drop()
	}
}

// ErrNoTask is the error a Strategy answers a request with when the request
// has no task.
var ErrNoTask = errors.New("strategy: request has no task")
