// Package primetime measures how a server's scheduling strategy decides
// what happens to CPU-bound requests under load.
//
// # The experiment
//
// A server answers "the nth prime" (1 -> 2, 10 -> 29) with a deliberately
// slow algorithm, [NthPrime]. A few clients bombard it with small requests
// while a monitor counts the answers per interval; then one client asks for
// something huge, the 10,000th prime, which takes about a second of CPU.
// How many small requests still get through while the huge one runs depends
// entirely on how the server schedules its work. The experiment comes from a
// well-known lecture on Python's GIL, where a thread-per-connection server
// keeps only a few percent of its small requests flowing and an event loop
// keeps none. Go has no GIL, so the same shapes give different answers in
// Go; measuring that contrast is what this module is for.
//
// # Two axes
//
// A strategy (package strategy) is a point on two independent axes. Who
// serves connections: Serial (one at a time), PerConn (a goroutine each),
// Pool(n) (at most n at once, the rest queued), or an event loop as
// asyncio's, Loop: on Linux one goroutine owns every connection's socket
// through epoll, so an idle connection costs no goroutine, and every
// request runs on that one goroutine (Loops(n) runs n such loops). And where each task runs: inline, on the goroutine that
// serves the request, on a pool of worker goroutines, or in a pool of
// worker processes. The lecture's shapes are points on this grid; so are
// shapes the lecture never tried, such as a Pool whose tasks run on a
// goroutine pool.
//
// # Python mode
//
// Go has no GIL, so Go's answers differ from the lecture's. Python mode
// (server.Server's GIL option, "-gil 5ms" on the command) runs a Go server
// under an emulated interpreter lock that follows CPython's switching
// algorithm: a thread that has waited one switch interval asks the holder
// to drop the lock; the holder drops it at its next [Checkpoint] and does
// not compete again until another thread has it. Connection goroutines, the
// loop and goroutine-pool workers are the interpreter's threads; worker
// processes are interpreters of their own. GOMAXPROCS is a knob too
// ("-maxprocs").
//
// Python mode also releases the lock where CPython does, around every
// socket call, and charges what the interpreter costs where CPython
// spends it (server.PythonCosts: a woken thread's wake-up, asyncio's
// turns of the loop, a process pool's feeder and manager threads), and
// "-cpython" runs the lecture's own server under CPython beside it, so the
// emulation is checked against the real thing in the same run.
//
// docs/python-mode.md has what each strategy keeps, in Go, in Python mode
// and in CPython, from one run on one machine, beside the lecture's
// figures; BENCHMARKS.md has the rest, with the commands that measure them.
//
// # The API at a glance
//
//   - [NthPrime] is the slow algorithm; [Prime] is the [Task] that serves it.
//   - A [Task] is any CPU-bound work: a name and a function from a request
//     payload to an answer. [TaskFunc] makes one from a function, [Register]
//     makes one reachable by name, and [Checkpoint] is what a long task calls
//     every so often so that it stops when its request is abandoned.
//   - [MaybeWorker] is the call at the top of main (and TestMain) that lets
//     a program be its own worker process, for the process-pool strategies
//     and for the NATS executor's workers (natsexec.Workers), which take
//     tasks from a NATS server on any machine.
//   - Package strategy: the strategies, and strategy.Parse for their text
//     forms ("perconn", "pool:8", "loop+goroutines:4", "procpool:2": its
//     doc lists them); strategy.Describe says what one is made of. Package
//     strategy/natsexec adds the NATS executor ("loop+nats:2") to the
//     programs that import it. Both axes are open: a scheduler of either
//     kind (a ConnScheduler, or a LoopScheduler: an event loop) or an
//     Executor written elsewhere combines with the built-in ones
//     (strategy.New, strategy.Offload) and, registered, has a name too.
//     Package strategy/strategytest checks one against the contract.
//   - Package server: a Server with a net/http-like life cycle (Serve,
//     ListenAndServe, Shutdown, Close) that speaks the line protocol: send
//     "10\n", read "29\n". Its GIL option is Python mode.
//   - Package loadtest: Run plays the experiment against a server and
//     returns intervals, events and a summary as data, counting only
//     answers it has checked. Package loadtest/compare runs it against
//     several strategies, each server in a child process, and package
//     loadtest/report shows results as the command does.
//   - Command primetime: "primetime compare" runs the whole experiment and
//     prints a table and a chart; "primetime help" lists the others.
package primetime
