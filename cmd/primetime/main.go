// Command primetime serves the nth-prime experiment and measures it.
//
// Usage:
//
//	primetime compare [-strategies serial,perconn,...] [load flags] [-html FILE] [-json FILE]
//	primetime load [-addr 127.0.0.1:25000] [load flags] [-json FILE] [-csv FILE]
//	primetime diff OLD.json NEW.json
//	primetime report [-html FILE] SAVED.json
//	primetime merge [-json FILE] [-hlog FILE] [-html FILE] PART.json...
//	primetime serve [-addr 127.0.0.1:25000] [-strategy perconn] [-nats URL]
//	primetime worker [-nats URL] [-n N]
//	primetime nth N
//	primetime lab [-addr 127.0.0.1:0] [-open] [-public]
//
// compare runs the lecture's experiment against each strategy, each server
// in a child process of its own, and prints a table and a chart. load runs
// it against a running server and prints each interval as it closes, like
// the lecture's monitor. The load flags are -clients, -request, -long,
// -after, -duration, -interval, -warmup, -reconnect and -rate.
//
// report shows a comparison or a run saved with -json as compare or load
// showed it, and with -html writes its page.
//
// serve answers the line protocol (send "10\n", read "29\n"), or with
// -protocol http or recv the other two, with the chosen strategy until
// SIGINT or SIGTERM, then shuts down gracefully; a second signal closes it
// at once. -gil 5ms serves in Python mode. nth computes the nth prime here and prints it
// with the time it took.
//
// lab serves a page on 127.0.0.1 that runs the lecture live against real
// servers: a section of the lecture a click, the long request a key, the
// answers per second and kept as they happen, and this machine's table at
// the end.
//
// worker runs tasks for the servers whose executor is nats ("loop+nats:2"):
// N worker processes that take them from the NATS server at -nats, on this
// machine or any other. compare and serve, given such a strategy and no
// -nats, start a NATS server of their own and local workers.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
	"github.com/primetime-lab/primetime/strategy/natsexec"
)

func main() {
	// Worker processes of a process pool are this program, started again.
	primetime.MaybeWorker()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && !stopsGracefully(os.Args[1]) {
		// The others read and compute, with nothing to finish or to
		// stop: a signal ends them at once, as it ends any program.
		stop()
	}
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// stopsGracefully reports whether the command watches for SIGINT and
// SIGTERM to stop what it started (servers, workers, a run) before it
// exits.
func stopsGracefully(command string) bool {
	switch command {
	case "serve", "worker", "nth", "load", "compare", "lab":
		return true
	}
	return false
}

const usage = `usage: primetime <command> [flags]

commands:
  compare run the experiment against every strategy and print a table and a chart
  load    run the experiment against a server and print each interval as it closes
  diff    compare two saved comparisons (or runs of load), row by row, with significance
  report  show a saved comparison (or run of load) again: its table and chart, or an HTML page
  merge   add up runs of load that several generators made together, exactly
  serve   serve the nth-prime task with a strategy until SIGINT or SIGTERM
  worker  run the tasks of nats strategies' servers, taken from a NATS server, until SIGINT or SIGTERM
  nth N   compute the nth prime here and print it with the time it took
  lab     serve a page that runs the lecture live: pick a section, send the long request, watch

Run "primetime <command> -h" for a command's flags.
`

// run runs the command line args and returns the exit code. ctx ends when
// the process is asked to stop.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// Child processes (servers, workers, a NATS server) share stderr.
	stderr = reexec.SharedWriter(stderr)
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "worker":
		return runWorker(ctx, args[1:], stdout, stderr)
	case "nth":
		return nth(ctx, args[1:], stdout, stderr)
	case "load":
		return runLoad(ctx, args[1:], stdout, stderr)
	case "compare":
		return runCompare(ctx, args[1:], stdout, stderr)
	case "diff":
		return runDiff(args[1:], stdout, stderr)
	case "report":
		return runReport(args[1:], stdout, stderr)
	case "merge":
		return runMerge(args[1:], stdout, stderr)
	case "lab":
		return runLab(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "primetime: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// shutdownGrace is how long serve waits for requests in flight after the
// first signal.
const shutdownGrace = 10 * time.Second

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCommand("serve", "primetime serve [flags]", stdout, stderr)
	addr := c.String("addr", server.DefaultAddr, "`address` to listen on")
	strat := c.strategy("strategy", strategy.PerConn(), "scheduling `strategy`: "+strategyForms())
	task := taskFlag(c)
	idle := c.duration("idle", server.DefaultIdleTimeout, anyValue, "close a connection idle this long, or whose request has not arrived whole this long after its first byte (negative: never)")
	maxLine := c.int("max-line", server.DefaultMaxLineBytes, positive, "longest request line in bytes")
	gilInterval := c.duration("gil", 0, nonNegative, "Python mode: an emulated interpreter lock with this switch `interval` (0: off; CPython's default is 5ms)")
	maxProcs := c.int("maxprocs", 0, nonNegative, "set GOMAXPROCS for the server (0: leave it)")
	protocol := protocolFlag(c)
	requestTimeout := c.duration("request-timeout", 0, nonNegative, "cancel a request still running after this long (0: no limit)")
	costs := pythonCostFlags(c)
	debugAddr := c.String("debug-addr", "", "also serve /debug/vars and /debug/pprof/ on this `address`, a loopback one such as 127.0.0.1:6060 (off if empty)")
	debugPublic := c.Bool("debug-public", false, "let -debug-addr be an address other machines reach: they then see the server's stacks, heap and command line")
	maxConns := c.int("max-conns", 0, nonNegative, "most connections open at once; further clients wait to be accepted (0: no limit)")
	natsFl := addNATSFlags(c, "", natsUsage)
	traceFile := c.String("trace", "", "record who runs when, and write it to `file` in the Trace Event Format on exit and on SIGUSR1 (for ui.perfetto.dev)")
	traceAnchor := c.String("trace-anchor", loadtest.DefaultLong, "with -trace, keep the window around the arrival of this `request` (empty: the latest events)")
	traceBefore := c.duration("trace-before", timeline.DefaultBefore, positive, "with -trace, keep this much before the anchor")
	traceAfter := c.duration("trace-after", timeline.DefaultAfter, positive, "with -trace, keep this much after the anchor")
	if code, ok := c.parse(args, 0); !ok {
		return code
	}
	if *traceFile != "" {
		if err := checkOutputs(*traceFile); err != nil {
			return c.fail(err, 2)
		}
	}
	s := *strat
	if *debugAddr != "" && !*debugPublic {
		if err := loopbackOnly(*debugAddr); err != nil {
			return c.usageError("-debug-addr " + err.Error())
		}
	}
	if *maxProcs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*maxProcs))
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return c.fail(err, 1)
	}
	defer l.Close()
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	conn, _, stopNATS, err := natsFor(natsFl, []strategy.Strategy{s}, stderr, logger)
	if err != nil {
		return c.fail(err, 1)
	}
	defer stopNATS()
	s = natsexec.With(s, conn)
	srv := &server.Server{Strategy: s, Task: *task, IdleTimeout: *idle, MaxLineBytes: *maxLine, Logger: logger, GIL: *gilInterval, Protocol: *protocol,
		RequestTimeout: *requestTimeout, MaxConns: *maxConns, PythonCosts: costs(), DebugAddr: *debugAddr}
	if *traceFile != "" {
		srv.Recorder = server.NewRecorder(server.RecorderOptions{Anchor: *traceAnchor, Before: *traceBefore, After: *traceAfter})
		stop := writeTraceOnSignal(srv, *traceFile, logger)
		defer stop()
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	// "serving" is said once it is true: a bad -debug-addr or workers
	// that cannot start fail first.
	select {
	case err := <-served:
		return c.fail(err, 1)
	case <-srv.Started():
		logger.Info("serving", "addr", l.Addr().String(), "strategy", s.String(), "task", srv.Task.Name(),
			"protocol", *protocol, "gil", *gilInterval, "gomaxprocs", runtime.GOMAXPROCS(0))
	case <-ctx.Done():
	}
	select {
	case err := <-served:
		return c.fail(err, 1)
	case <-ctx.Done():
	}

	logger.Info("shutting down; a second signal closes at once")
	// A second signal cancels shutCtx: Shutdown then cancels the tasks
	// still running and returns.
	shutCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	again, stopAgain := signal.NotifyContext(shutCtx, os.Interrupt, syscall.SIGTERM)
	defer stopAgain()
	if err := srv.Shutdown(again); err != nil {
		logger.Warn("shutdown cut short; closing", "err", err)
		srv.Close()
	}
	if err := <-served; !errors.Is(err, server.ErrServerClosed) {
		return c.fail(err, 1)
	}
	st := srv.Stats()
	logger.Info("stopped", "accepted", st.Accepted, "answered", st.Answered, "errors", st.Errors)
	if *traceFile != "" {
		if err := writeTrace(srv, *traceFile); err != nil {
			return c.fail(err, 1)
		}
		logger.Info("trace written", "file", *traceFile)
	}
	return 0
}

// loopbackOnly returns an error unless addr is a loopback address.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not a host:port (%v)", addr, err)
	}
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s is not a loopback address, and the debug endpoints show the server's stacks, heap and command line to whoever connects: give one such as 127.0.0.1:6060, or add -debug-public if that is meant", addr)
}

// nthEstimateFrom is the n nth times first, to estimate a large n's time.
const nthEstimateFrom = 2000

// nthWarnAfter is how long a computation may take before nth says so.
const nthWarnAfter = 10 * time.Second

func nth(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// N may be negative, so nth reads its argument itself rather than
	// take "-5" for a flag.
	const synopsis = "usage: primetime nth N\n\nnth computes the nth prime here, as the server does, and prints it with the time it took.\n"
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(stdout, synopsis)
		return 0
	}
	if len(args) != 1 {
		fmt.Fprintf(stderr, "primetime nth: takes one argument, N, got %d (primetime nth -h says more)\n", len(args))
		return 2
	}
	n, err := strconv.Atoi(args[0])
	switch {
	case err != nil || n < 1:
		fmt.Fprintf(stderr, "primetime nth: N must be a whole number from 1 (the 1st prime is 2) to %s, got %q\n", thousands(primetime.DefaultMaxN), args[0])
		return 2
	case n > primetime.DefaultMaxN:
		est, _ := nthTime(ctx, n)
		fmt.Fprintf(stderr, "primetime nth: N is %s, over the prime task's limit of %s: it %s\n", thousands(n), thousands(primetime.DefaultMaxN), estimateText(est))
		return 2
	}
	if checkOnly {
		return 0
	}
	if n > nthEstimateFrom {
		if est, ok := nthTime(ctx, n); ok && est.cpu > nthWarnAfter.Seconds() {
			fmt.Fprintf(stderr, "primetime nth: n=%s %s; Ctrl-C stops it\n", thousands(n), estimateText(est))
		}
	}
	start := time.Now()
	p, err := primetime.NthPrime(ctx, n)
	if err != nil {
		fmt.Fprintf(stderr, "primetime nth: stopped after %s: %v\n", time.Since(start).Round(time.Millisecond), err)
		return 1
	}
	fmt.Fprintf(stdout, "%d (%s)\n", p, time.Since(start).Round(time.Microsecond))
	return 0
}

// An estimate is how long NthPrime(n) takes here: its CPU time, and the
// share of a core the measurement got, under 1 on a busy machine.
type estimate struct {
	cpu, share float64
}

// nthTime estimates how long NthPrime(n) takes here, from the CPU time of
// a small n, the best of three, measured on one thread's CPU clock so that
// a busy machine does not inflate it: the algorithm divides each prime p
// by every number below it, so its cost grows as the sum of the primes up
// to the nth, about P²/(2 ln P) with P = n ln n.
func nthTime(ctx context.Context, n int) (estimate, bool) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	best := estimate{cpu: math.Inf(1)}
	for range 3 {
		cpu0, start := threadCPU(), time.Now()
		if _, err := primetime.NthPrime(ctx, nthEstimateFrom); err != nil {
			return estimate{}, false
		}
		cpu, wall := (threadCPU() - cpu0).Seconds(), time.Since(start).Seconds()
		if cpu <= 0 { // no thread clock here: the wall clock
			cpu = wall
		}
		if cpu < best.cpu {
			best = estimate{cpu: cpu, share: min(cpu/wall, 1)}
		}
	}
	cost := func(n int) float64 {
		p := float64(n) * math.Log(float64(n))
		return p * p / math.Log(p)
	}
	best.cpu *= cost(n) / cost(nthEstimateFrom)
	return best, true
}

// estimateText says how long an estimated computation takes.
func estimateText(e estimate) string {
	if e.cpu <= 0 {
		return "would take long"
	}
	text := fmt.Sprintf("would take about %s of CPU here (estimated from the CPU time of n=%s)", roundEstimate(e.cpu), thousands(nthEstimateFrom))
	if e.share < busyShare {
		text += fmt.Sprintf("; the machine is busy (the estimate got %.0f%% of a core), so it may take longer", 100*e.share)
	}
	return text
}

// busyShare is the share of a core under which the machine counts as busy.
const busyShare = 0.8

// roundEstimate rounds an estimate in seconds to what it can mean.
func roundEstimate(secs float64) string {
	const day, year = 24 * 3600, 365.25 * 24 * 3600
	switch d := time.Duration(secs * float64(time.Second)); {
	case secs >= 2*year:
		return thousands(int(secs/year)) + " years"
	case secs >= 2*day:
		return fmt.Sprintf("%.0f days", secs/day)
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	default:
		return d.Round(time.Second).String()
	}
}

// protocolFlag defines -protocol on c and returns where it is kept.
func protocolFlag(c *command) *server.Protocol {
	p := server.ProtocolLine
	c.Var((*protocolValue)(&p), "protocol", "wire `protocol`: "+protocolNames())
	c.field("Protocol", "protocol")
	return &p
}

// protocolNames lists the protocols.
func protocolNames() string {
	names := make([]string, 0, len(server.Protocols()))
	for _, q := range server.Protocols() {
		names = append(names, string(q))
	}
	return strings.Join(names, ", ")
}

// protocolValue is a server.Protocol as a flag.Value.
type protocolValue server.Protocol

func (v *protocolValue) String() string { return string(*v) }

func (v *protocolValue) Set(s string) error {
	p, err := server.ParseProtocol(s)
	if err != nil {
		return fmt.Errorf("%q is not a protocol: give one of %s", s, protocolNames())
	}
	*v = protocolValue(p)
	return nil
}

// pythonCostFlags defines the flags of Python mode's costs on c and
// returns a function that reads them.
func pythonCostFlags(c *command) func() server.PythonCosts {
	def := server.DefaultPythonCosts
	handover := c.duration("gil-handover", def.Handover, anyValue, "Python mode: how long a thread woken by the lock's release takes to run again (negative: none)")
	loop := c.duration("gil-loop-cost", def.LoopRequest, anyValue, "Python mode: CPU the event loop spends, holding the lock, on each request (asyncio's machinery; negative: none)")
	pool := c.duration("gil-pool-cost", def.PoolHop, anyValue, "Python mode: CPU a process pool's feeder and manager threads each spend, holding the lock, on each task (negative: none)")
	return func() server.PythonCosts {
		return server.PythonCosts{Handover: *handover, LoopRequest: *loop, PoolHop: *pool}
	}
}
