// Command primetime serves the nth-prime experiment and measures it.
//
// Usage:
//
//	primetime compare [-strategies serial,perconn,...] [load flags] [-html FILE] [-json FILE]
//	primetime load [-addr 127.0.0.1:25000] [load flags] [-json FILE] [-csv FILE]
//	primetime diff OLD.json NEW.json
//	primetime report [-html FILE] SAVED.json
//	primetime serve [-addr 127.0.0.1:25000] [-strategy perconn]
//	primetime nth N
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
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

func main() {
	// Worker processes of a process pool are this program, started again.
	primetime.MaybeWorker()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: primetime <command> [flags]

commands:
  compare run the experiment against every strategy and print a table and a chart
  load    run the experiment against a server and print each interval as it closes
  diff    compare two saved comparisons (or runs of load), row by row, with significance
  report  show a saved comparison (or run of load) again: its table and chart, or an HTML page
  serve   serve the nth-prime task with a strategy until SIGINT or SIGTERM
  nth N   compute the nth prime here and print it with the time it took

Run "primetime <command> -h" for a command's flags.
`

// run runs the command line args and returns the exit code. ctx ends when
// the process is asked to stop.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stderr)
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

func serve(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", server.DefaultAddr, "`address` to listen on")
	strat := fs.String("strategy", "perconn", "scheduling `strategy`: serial, perconn, pool:N, loop, loop+goroutines:N, procpool:N, loop+procs:N, ...")
	idle := fs.Duration("idle", server.DefaultIdleTimeout, "close a connection idle this long (negative: never)")
	maxLine := fs.Int("max-line", server.DefaultMaxLineBytes, "longest request line in bytes")
	gilInterval := fs.Duration("gil", 0, "Python mode: an emulated interpreter lock with this switch `interval` (0: off; CPython's default is 5ms)")
	maxProcs := fs.Int("maxprocs", 0, "set GOMAXPROCS for the server (0: leave it)")
	protocol := protocolFlag(fs)
	requestTimeout := fs.Duration("request-timeout", 0, "cancel a request still running after this long (0: no limit)")
	costs := pythonCostFlags(fs)
	debugAddr := fs.String("debug-addr", "", "also serve /debug/vars and /debug/pprof/ on this `address` (off if empty; give a loopback one, such as 127.0.0.1:6060)")
	maxConns := fs.Int("max-conns", 0, "most connections open at once; further clients wait to be accepted (0: no limit)")
	if !parseNoArgs(fs, args, stderr) {
		return 2
	}
	s, err := strategy.Parse(*strat)
	if err != nil {
		fmt.Fprintf(stderr, "primetime serve: %v\n", err)
		return 2
	}
	if *maxLine < 1 {
		fmt.Fprintf(stderr, "primetime serve: -max-line must be at least 1, got %d\n", *maxLine)
		return 2
	}
	if *gilInterval < 0 || *maxProcs < 0 || *requestTimeout < 0 || *maxConns < 0 {
		fmt.Fprintln(stderr, "primetime serve: -gil, -maxprocs, -request-timeout and -max-conns must not be negative")
		return 2
	}
	if *maxProcs > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*maxProcs))
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "primetime serve: %v\n", err)
		return 1
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	srv := &server.Server{Strategy: s, Task: primetime.Prime, IdleTimeout: *idle, MaxLineBytes: *maxLine, Logger: logger, GIL: *gilInterval, Protocol: *protocol,
		RequestTimeout: *requestTimeout, MaxConns: *maxConns, PythonCosts: costs(), DebugAddr: *debugAddr}
	logger.Info("serving", "addr", l.Addr().String(), "strategy", s.String(), "task", srv.Task.Name(),
		"protocol", *protocol, "gil", *gilInterval, "gomaxprocs", runtime.GOMAXPROCS(0))

	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	select {
	case err := <-served:
		fmt.Fprintf(stderr, "primetime serve: %v\n", err)
		return 1
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
		fmt.Fprintf(stderr, "primetime serve: %v\n", err)
		return 1
	}
	st := srv.Stats()
	logger.Info("stopped", "accepted", st.Accepted, "answered", st.Answered, "errors", st.Errors)
	return 0
}

func nth(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: primetime nth N") }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	n, err := strconv.Atoi(fs.Arg(0))
	if err != nil || n < 1 {
		fmt.Fprintf(stderr, "primetime nth: N must be a positive integer, got %q\n", fs.Arg(0))
		return 2
	}
	start := time.Now()
	p, err := primetime.NthPrime(ctx, n)
	if err != nil {
		fmt.Fprintf(stderr, "primetime nth: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d (%s)\n", p, time.Since(start).Round(time.Microsecond))
	return 0
}

// parseNoArgs parses a subcommand's flags, which are all it takes, and
// reports whether they were well formed; it has said what was wrong if not.
func parseNoArgs(fs *flag.FlagSet, args []string, stderr io.Writer) bool {
	if err := fs.Parse(args); err != nil {
		return false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "primetime %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false
	}
	return true
}

// protocolFlag defines -protocol on fs and returns where it is kept.
func protocolFlag(fs *flag.FlagSet) *server.Protocol {
	p := server.ProtocolLine
	names := make([]string, 0, len(server.Protocols()))
	for _, q := range server.Protocols() {
		names = append(names, string(q))
	}
	fs.Var((*protocolValue)(&p), "protocol", "wire `protocol`: "+strings.Join(names, ", "))
	return &p
}

// protocolValue is a server.Protocol as a flag.Value.
type protocolValue server.Protocol

func (v *protocolValue) String() string { return string(*v) }

func (v *protocolValue) Set(s string) error {
	p, err := server.ParseProtocol(s)
	*v = protocolValue(p)
	return err
}

// pythonCostFlags defines the flags of Python mode's costs on fs and
// returns a function that reads them.
func pythonCostFlags(fs *flag.FlagSet) func() strategy.PythonCosts {
	def := strategy.DefaultPythonCosts
	handover := fs.Duration("gil-handover", def.Handover, "Python mode: how long a thread woken by the lock's release takes to run again (negative: none)")
	loop := fs.Duration("gil-loop-cost", def.LoopRequest, "Python mode: CPU the event loop spends, holding the lock, on each request (asyncio's machinery; negative: none)")
	pool := fs.Duration("gil-pool-cost", def.PoolHop, "Python mode: CPU a process pool's feeder and manager threads each spend, holding the lock, on each task (negative: none)")
	return func() strategy.PythonCosts {
		return strategy.PythonCosts{Handover: *handover, LoopRequest: *loop, PoolHop: *pool}
	}
}
