// Package strategy holds the scheduling strategies a server can use: who
// serves connections, and where their tasks run.
//
// A Strategy is a point on two independent axes. The first is the connection
// scheduler, of one of two kinds. A [ConnScheduler] serves each connection
// on a goroutine:
//
//   - [Serial]: one connection at a time, on one goroutine; the next
//     connection is accepted when the current one closes.
//   - [PerConn]: a goroutine per connection.
//   - [Pool]: at most n connections served at once; the others are accepted
//     and wait their turn in a first-come, first-served queue.
//
// A [LoopScheduler] is an event loop, which handles the requests itself:
//
//   - [Loop]: an event loop, as asyncio's: on Linux one goroutine owns
//     every connection's socket and runs every request, one at a time; a
//     slow request stalls every connection.
//   - [Loops]: n such loops, each with its share of the connections, as
//     servers that run a loop per core do.
//
// The second is the [Executor], where each request's task runs: [Inline], on
// the goroutine that handles the request, [Goroutines], a pool of worker
// goroutines, or [Processes], a pool of worker processes (package natsexec
// adds worker processes anywhere, behind a NATS server). [Offload] moves
// any scheduler's tasks onto an executor, and [LoopWithOffload] is the Loop
// whose tasks run elsewhere, as asyncio's run_in_executor does: the loop
// hands the task over and goes on, and learns of its answer through a
// wake-up descriptor. [ProcessPool] is PerConn with a process pool.
//
// Both axes are open: a [Scheduler] or an [Executor] written elsewhere
// becomes a Strategy with [New] and [Offload], and has a text form once
// registered with [RegisterScheduler] or [RegisterExecutor]. Its goroutines
// take part in Python mode (the server's emulated interpreter lock) and in
// the timeline through a [Thread] ([Env.LoopThread], [Env.WorkerThread]),
// and an executor whose tasks run in other processes through a [Remote].
//
// Strategies have a text form, returned by String and read by [Parse]
// (whose doc lists the forms): "perconn", "pool:8", "loop+goroutines:4",
// "procpool:2", a scheduler and an optional executor joined by "+".
// [Describe] says what a strategy is made of, for programs that would
// otherwise read its text.
//
// A Strategy describes; it holds no running state. Each call of its Serve
// method starts its own executor and stops it before returning, so one
// Strategy value can serve many servers, one after the other or at once.
package strategy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/internal/worker"
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
// serve. Package server makes it; the fields of internal types are its
// Python mode, its counters and its timeline, which the methods of Env hand
// to schedulers and executors ([Env.LoopThread], [Env.WorkerThread],
// [Env.Remote]).
type Env struct {
	// Python is the interpreter of Python mode, or nil in Go mode.
	Python *gil.Interpreter
	// Task is what the server's requests run, so that an executor can
	// check at start that it can run it; nil if unknown.
	Task primetime.Task
	// Metrics, if not nil, receives the counts of the executor's worker
	// processes.
	Metrics *worker.Counts
	// Recorder, if not nil, records who runs when (see server.Recorder).
	Recorder *timeline.Recorder
	// Logger receives what an executor has to say while it serves (a
	// NATS server lost, and back); nil means slog.Default.
	Logger *slog.Logger
}

// Log returns env's Logger, or slog.Default() if it has none.
func (env Env) Log() *slog.Logger {
	if env.Logger != nil {
		return env.Logger
	}
	return slog.Default()
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
// executor. New panics if sched is nil, or is neither a [ConnScheduler] nor
// a [LoopScheduler].
func New(sched Scheduler, e Executor) Strategy {
	if sched == nil {
		panic("strategy: New with a nil Scheduler")
	}
	if !isScheduler(sched) {
		panic(fmt.Sprintf("strategy: New with a %T, which is neither a ConnScheduler nor a LoopScheduler", sched))
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
// that owns an epoll instance and every connection's non-blocking socket,
// buffers and timers: no goroutine per connection, so an idle connection
// costs little memory, and the loop has one core. Elsewhere, or with another Listener, connections are read on
// goroutines of their own and the loop is one goroutine that handles their
// requests, in the same order.
func Loop() Strategy { return New(loops{}, nil) }

// Loops returns the strategy of n event loops, each as [Loop]'s, with the
// connections spread over them as they are accepted (to the loop that has
// the fewest open): one slow request stalls the connections of its loop
// only, and the loops have a core each. n = 0 means one per CPU. In Python
// mode each loop is a thread of the one interpreter, as several event-loop
// threads of one CPython process would be. Loops panics if n < 0.
func Loops(n int) Strategy {
	if n < 0 {
		panic("strategy: Loops needs a non-negative number of loops")
	}
	return New(loops{n: n, many: true}, nil)
}

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
func (s strategy) String() string { return strategyForm(s.sched.String(), s.exec.String()) }

// Serve implements [Strategy]: it starts the executor, serves l with the
// scheduler, whichever kind it is, and stops the executor.
func (s strategy) Serve(l Listener, env Env) error {
	if env.Recorder != nil {
		env.Python.Lock().SetRecorder(env.Recorder)
	}
	r, err := s.exec.Start(env)
	if err != nil {
		return err
	}
	run := asRunner(r)
	defer run.Stop()
	switch sched := s.sched.(type) {
	case LoopScheduler:
		return sched.ServeLoop(l, LoopEnv{Env: env, Runner: run})
	case ConnScheduler:
		return sched.Schedule(l, handler{run: run, lock: env.Python.Lock()})
	}
	panic("strategy: a Scheduler of neither kind") // New refuses them
}

// isScheduler reports whether sched is of one of the two kinds.
func isScheduler(sched Scheduler) bool {
	switch sched.(type) {
	case ConnScheduler, LoopScheduler:
		return true
	}
	return false
}

// errNoTask is the error a Strategy answers a request with when the request
// has no task.
var errNoTask = errors.New("strategy: request has no task")
