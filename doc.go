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
// Pool(n) (at most n at once, the rest queued) or Loop (one goroutine runs
// every request, like an asyncio event loop). And where each task runs:
// inline, on the goroutine that serves the request, on a pool of worker
// goroutines, or in a pool of worker processes. The lecture's shapes are points on this grid; so are shapes
// the lecture never tried, such as a Pool whose tasks run on a goroutine
// pool.
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
//     "procpool:2", "loop+procs:2").
//   - Package server: a Server with a net/http-like life cycle (Serve,
//     ListenAndServe, Shutdown, Close) that speaks the line protocol: send
//     "10\n", read "29\n".
//   - Command primetime: "primetime serve -strategy loop" runs a server,
//     "primetime nth 10000" times the algorithm.
package primetime
