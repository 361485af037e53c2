package compare

import (
	"context"
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
	stop func() error
}

// Start starts the server of the row of x labelled row (as Plan's Rows
// label them: "perconn", "perconn gil=5ms", "perconn cpython si=5ms"); a
// live experiment (the lab) then drives it with loadtest.Run and sends its
// long requests itself. Stop it with Stop.
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
			addr, pid, stop, err := x.startServer(ctx, t, pt.sc, "")
			if err != nil {
				return nil, err
			}
			long := pt.sc.Long
			if t.long != "" {
				long = t.long
			}
			r := loadtest.Row{Strategy: t.strategy.String(), GIL: t.gil, Runtime: t.runtime, CPUs: x.CPUs, Point: pt.settings}
			return &Server{Addr: addr, Pid: pid, Row: r, Long: long, stop: stop}, nil
		}
	}
	return nil, loadtest.Fault("Strategies", fmt.Sprintf("the experiment has no row %q: it has %s", row, strings.Join(p.Rows, ", ")))
}

// Stop stops the server and waits for its process.
func (s *Server) Stop() error { return s.stop() }
