package compare

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/primetime-lab/primetime/loadtest"
)

// A Server is the server of one row of an experiment, started as Run
// starts it: a child process, or a server in this process with InProcess.
type Server struct {
	// Addr is its loopback address, and Pid its process (0 in this
	// process).
	Addr string
	Pid  int
	// Row names its row: the strategy, its runtime and switch interval.
	Row loadtest.Row
	// Long is the long request to send it: the scenario's, or CPython's
	// and the JVM's, scaled to last as long.
	Long string

	stop, trace func() error
	tracePath   string
}

// Start starts the server of the row of x labelled row (as Plan's Rows
// label them: "perconn", "perconn gil=5ms", "perconn cpython si=5ms"); a
// live experiment (the lab) then drives it with loadtest.Run and sends its
// long requests itself. Stop it with Stop. With a TraceDir, a Go server
// (in Go or Python mode) records its timeline around each arrival of the
// long request, and Trace writes it.
func (x Experiment) Start(ctx context.Context, row string) (*Server, error) {
	p, err := x.Plan()
	if err != nil {
		return nil, err
	}
	for _, pt := range p.points {
		for _, t := range pt.targets {
			if pt.label(t) != row {
				continue
			}
			srv := &Server{}
			if x.TraceDir != "" && t.runtime == "" && !x.InProcess {
				// A Go server's timeline, written whenever Trace asks.
				cfg := x.childConfig(t, pt.sc, x.tracePath(pt.label(t), 0))
				cfg.Live = true
				c, err := startChild(cfg, x.Stderr, startWithin(ctx))
				if err != nil {
					return nil, err
				}
				srv.Addr, srv.Pid, srv.stop, srv.trace, srv.tracePath = c.Addr, c.Pid(), c.stop, c.trace, cfg.Trace
			} else {
				var err error
				if srv.Addr, srv.Pid, srv.stop, err = x.startServer(ctx, t, pt.sc, ""); err != nil {
					return nil, err
				}
			}
			long := pt.sc.Long
			if t.long != "" {
				long = t.long
			}
			srv.Row = loadtest.Row{Strategy: t.strategy.String(), GIL: t.gil, Runtime: t.runtime, CPUs: x.CPUs, Point: pt.settings}
			srv.Long = long
			return srv, nil
		}
	}
	return nil, loadtest.Fault("Strategies", fmt.Sprintf("the experiment has no row %q: it has %s", row, strings.Join(p.Rows, ", ")))
}

// Trace writes the server's timeline around the latest arrival of the
// long request to a file in the experiment's TraceDir, and returns its
// path; the next arrival opens a new window. Only a Go server started with
// a TraceDir records one.
func (s *Server) Trace() (string, error) {
	if s.trace == nil {
		return "", errors.New("compare: this server records no timeline: a Go server, in Go or Python mode, started with a TraceDir does")
	}
	return s.tracePath, s.trace()
}

// Stop stops the server and waits for its process.
func (s *Server) Stop() error { return s.stop() }
