package strategy

import (
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/reactor"
)

// serveLoop serves l with an event loop: the epoll reactor, which owns every
// connection's socket, where the system has it and l can hand its sockets
// over (package server's listener can); the portable loop otherwise.
func serveLoop(l Listener, run runner, lock *gil.GIL) error {
	rl, ok := l.(reactor.Listener)
	if !ok || !reactor.Supported {
		return servePortableLoop(l, run, lock)
	}
	x := reactor.Executor{Submit: run.submit}
	if _, inline := run.(inline); inline {
		x = reactor.Executor{Run: runTask}
	}
	return reactor.Serve(rl, x, lock.NewThread())
}
