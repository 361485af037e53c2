package strategy

import (
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/reactor"
)

// loop is the Loop's scheduler. It is not one a Handler can carry out: a
// strategy serves it with serveLoop, which needs the executor itself.
type loop struct{}

func (loop) String() string { return "loop" }

func (loop) Schedule(l Listener, h Handler) error {
	panic("strategy: the loop scheduler is served by its strategy, not through a Handler")
}

// serveLoop serves l with an event loop: the epoll reactor, which owns every
// connection's socket, where the system has it and l can hand its sockets
// over (package server's listener can); the portable loop otherwise.
func serveLoop(l Listener, run runner, lock *gil.GIL, costs PythonCosts) error {
	rl, ok := l.(reactor.Listener)
	if !ok || !reactor.Supported {
		return servePortableLoop(l, run, lock)
	}
	x := reactor.Executor{Submit: run.Submit}
	if _, inline := run.(inline); inline {
		x = reactor.Executor{Run: runTask}
	}
	return reactor.Serve(rl, x, lock.NewThread(), costs.LoopRequest)
}
