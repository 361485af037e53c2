package strategy

import (
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/timeline"
)

// A Scheduler is the first axis of a strategy: who serves connections. A
// scheduler is one of two kinds. A [ConnScheduler] serves each connection
// on a goroutine of its choosing with the [Handler] it is given: [Serial],
// [PerConn] and [Pool] are. A [LoopScheduler] is an event loop: it handles
// every request of the connections it serves itself and hands their tasks to
// the executor: [Loop] and [Loops] are. A scheduler written elsewhere, of
// either kind, becomes a Strategy with [New], and by name with
// [RegisterScheduler].
type Scheduler interface {
	// String returns the scheduler's text form, as [Parse] reads it.
	String() string
}

// A ConnScheduler is the kind of [Scheduler] that serves each connection on
// a goroutine, as a thread-per-connection server does.
type ConnScheduler interface {
	Scheduler
	// Schedule accepts connections from l until Accept returns an error,
	// serves each with h.ServeConn on a goroutine of its choosing, waits
	// for every one of them to return, and returns the error from Accept.
	Schedule(l Listener, h Handler) error
}

// A Handler is what a strategy gives its [ConnScheduler]: it serves a
// connection, running each request's task with the strategy's executor.
type Handler interface {
	// ServeConn answers c's requests in order on the calling goroutine,
	// until c has no more, and then closes c. In Python mode the calling
	// goroutine is an interpreter thread for the while: it holds the lock
	// from the moment a request has been read until its answer is ready,
	// and not while it reads or writes, as a Python thread releases the
	// lock in recv and send.
	ServeConn(c Conn)
}

// A LoopScheduler is the kind of [Scheduler] that is an event loop, as
// asyncio's is: it owns the connections it serves, handles their requests
// itself, one at a time on each loop, and hands each task to the executor.
type LoopScheduler interface {
	Scheduler
	// ServeLoop accepts connections from l until Accept returns an error,
	// answers their requests in order per connection, running each task
	// with lp.Runner, waits until every connection it accepted has closed
	// and every task it submitted has been answered, and returns the error
	// from Accept. It closes each connection it has finished with, but not
	// the listener, and it does not stop lp.Runner.
	ServeLoop(l Listener, lp LoopEnv) error
}

// LoopEnv is what a strategy gives its [LoopScheduler]: the server's [Env]
// and the started executor.
type LoopEnv struct {
	Env
	// Runner runs the tasks. Its Submit may run a task and call done before
	// it returns, as the inline executor's does: the task then runs on the
	// loop's goroutine, as the interpreter thread that the context given
	// to Submit carries (see [Thread.Context]). The strategy stops it once
	// ServeLoop has returned.
	Runner Runner
}

// handler is the Handler a strategy gives its ConnScheduler.
type handler struct {
	run  runner
	lock *gil.GIL
}

func (h handler) ServeConn(c Conn) {
	th := h.lock.NewThread(gil.Connection)
	if l, ok := c.(lanedConn); ok && th != nil {
		th.SetLane(l.TimelineLane()) // the connection's thread is its lane
	}
	serveConn(c, h.run, th)
}

// A lanedConn is a Conn whose events a recorder keeps on a lane of its
// own, as the server's are when it records a timeline.
type lanedConn interface {
	TimelineLane() *timeline.Lane
}

// serveConn answers c's requests in order on the calling goroutine, running
// each task with run, until the connection is done; then it closes c.
//
// In Python mode the goroutine is an interpreter thread: it runs a request
// as Python code from the moment it has been read until its answer is
// ready, and reads and writes the connection without the lock, as a Python
// thread releases it in recv and send; it takes it once more between the
// two.
func serveConn(c Conn, run runner, th *gil.Thread) {
	defer c.Close()
	for {
		req, err := c.ReadRequest()
		if err != nil {
			return
		}
		var answer []byte
		if th == nil {
			// Go mode: no lock to take, and no closure to make for it.
			answer, err = run.run(req.Context, req.Task, req.Payload)
		} else {
			th.Serving(req.Payload)
			th.Run(func() { answer, err = run.run(gil.WithThread(req.Context, th), req.Task, req.Payload) })
		}
		if c.WriteAnswer(answer, err) != nil {
			return
		}
		th.AfterSend()
	}
}
