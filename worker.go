package primetime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/internal/worker"
)

// MaybeWorker turns this process into a worker process if a process pool
// started it as one, and returns at once otherwise. A program that uses a
// process pool (the strategies "procpool:N" and "loop+procs:N") calls it
// first thing in main, and a test package that does calls it first thing
// in TestMain:
//
//	func main() {
//		primetime.MaybeWorker()
//		...
//	}
//
// Worker processes are this same program, started again with a marker in
// their environment. The same call also serves the other child processes
// the module starts: the servers that compare.Run runs each in a
// process of its own, and the workers of strategy.NATSWorkers. In a worker, MaybeWorker runs the tasks its parent
// sends, finding each by the name it was registered under with [Register],
// and never returns: the process exits when its parent closes its stdin or
// dies. Tasks must therefore be registered in init functions, which run
// before main in every process.
//
// Child processes ignore SIGINT: they stop when their parent closes their
// stdin, or dies.
//
// A worker that does not reach this call never answers its parent's
// handshake; the parent kills it and reports an error that names this call.
// Such a process cannot start a process pool or a server of its own either:
// both refuse inside a worker.
func MaybeWorker() {
	if !reexec.IsWorker() {
		return
	}
	// Ctrl-C in a terminal interrupts the whole process group; a child
	// stops when its parent says so (its stdin closes), so that the
	// parent's graceful shutdown has its workers to finish with.
	signal.Ignore(os.Interrupt)
	if ok, err := reexec.RunRole(); ok {
		exitWith(err)
	}
	exitWith(worker.Serve(os.Stdin, os.Stdout, Registered(), worker.Lookup(Lookup), ErrBadRequest))
}

// exitWith ends a worker process: EOF on stdin is how its parent tells it to
// go, so it is a clean exit.
func exitWith(err error) {
	if err == nil || errors.Is(err, io.EOF) {
		os.Exit(0)
	}
	fmt.Fprintf(os.Stderr, "primetime worker %d: %v\n", os.Getpid(), err)
	os.Exit(1)
}
