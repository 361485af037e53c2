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
// Pool(n) (at most n at once, the rest queued) or Loop, an event loop as
// asyncio's: on Linux one goroutine, locked to its OS thread, owns every
// connection's socket through epoll, so an idle connection costs about a
// kilobyte instead of a goroutine's ten, and every request runs on that
// one thread. And where each task runs: inline, on the goroutine that
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
// spends it (strategy.PythonCosts: a woken thread's wake-up, asyncio's
// turns of the loop, a process pool's feeder and manager threads), and
// "-cpython" runs the lecture's own server under CPython beside it, so the
// emulation is checked against the real thing in the same run.
//
// Small requests kept while the long one runs, on a 2-core machine. The
// first column is the lecture's figures in Python 3.11; the others are one
// run of "primetime compare -cpython -gil 5ms" (Go 1.26, CPython 3.11.7, 4
// clients, n=10000 for Go and a CPython long request scaled to last as
// long):
//
//	strategy             lecture    CPython   Go, Python mode (5 ms)   Go
//	serial               0          0.0%      0.0%                     0.0%
//	perconn              about 8%   1.2%      0.9%                     60%
//	pool:8               -          1.6%      1.1%                     69%
//	loop                 0          0.0%      0.1%                     0.0%
//	loop+goroutines:2    about 8%   0.6%      1.4%                     37%
//	procpool:2           about 100% 100%      108%                     70%
//	loop+procs:2         about 93%  94%       95%                      70%
//
// In CPython and in Python mode the small requests during the long one come
// at the pace of the switch interval, a few per 5 ms; CPython on this
// machine answers far more small requests before the long one starts than
// the lecture's did, so it keeps a smaller share. A switch interval of 2 ms
// keeps about twice as much, 1 s almost nothing. In Go mode, what the
// goroutines lose is the core the long request occupies. The process pools
// keep about everything, since the long request takes one worker and the
// small ones the other, and pay for it in every small request's round trip.
//
// # The API at a glance
//
//   - [NthPrime] is the slow algorithm; [Prime] is the [Task] that serves it.
//   - A [Task] is any CPU-bound work: a name and a function from a request
//     payload to an answer. [TaskFunc] makes one from a function, [Register]
//     makes one reachable by name, and [Checkpoint] is what a long task calls
//     every so often so that it stops when its request is abandoned.
//   - [MaybeWorker] is the call at the top of main (and TestMain) that lets
//     a program be its own worker process, for the process-pool strategies.
//   - Package strategy: the strategies, and strategy.Parse for their text
//     forms ("serial", "perconn", "pool:8", "loop", "loop+goroutines:4",
//     "procpool:2", "loop+procs:2"). Both axes are open: a Scheduler or an
//     Executor written elsewhere combines with the built-in ones
//     (strategy.New, strategy.Offload) and, registered, has a name too.
//   - Package server: a Server with a net/http-like life cycle (Serve,
//     ListenAndServe, Shutdown, Close) that speaks the line protocol: send
//     "10\n", read "29\n". Its GIL option is Python mode.
//   - Package loadtest: Run plays the experiment against a server and
//     returns intervals, events and a summary as data, counting only
//     answers it has checked; Compare runs it against several strategies,
//     each server in a child process.
//   - Command primetime: "primetime compare" runs the whole experiment and
//     prints a table and a chart, "primetime serve -strategy loop" runs a
//     server, "primetime load" drives one, "primetime nth 10000" times the
//     algorithm.
package primetime
