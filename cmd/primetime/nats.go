package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"runtime"
	"slices"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/natslocal"
	"github.com/primetime-lab/primetime/strategy"
)

// natsFlag adds -nats, whose value must be a NATS URL, with the given
// default and what it means.
func natsFlag(c *command, def, usage string) *string {
	v := def
	c.Func("nats", usage, func(s string) error {
		if err := checkNATSURL(s); err != nil {
			return err
		}
		v = s
		return nil
	})
	return &v
}

// natsUsage is -nats's usage in compare and serve.
const natsUsage = "`URL` of the NATS server whose workers run the tasks of the nats executor (\"primetime worker\" serves them); without it, a NATS server of its own (a child process) and local workers, as many as the tasks in flight"

// checkNATSURL checks that s is a URL a NATS client connects to.
func checkNATSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || !slices.Contains([]string{"nats", "tls", "ws", "wss"}, u.Scheme) || u.Host == "" {
		return fmt.Errorf("%q is not a NATS URL such as %s", s, strategy.DefaultNATSURL)
	}
	return nil
}

// natsWorkersNeeded returns how many workers the strategies that run their
// tasks over NATS need, the most tasks any has in flight, or 0 if none does.
func natsWorkersNeeded(ss []strategy.Strategy) int {
	n := 0
	for _, s := range ss {
		if e := strategy.Describe(s).Executor; e.Name == strategy.NATSName {
			size := e.Size
			if size == 0 {
				size = runtime.NumCPU()
			}
			n = max(n, size)
		}
	}
	return n
}

// natsFor returns the NATS URL the strategies ss use: given, if not empty;
// otherwise, if any of them needs NATS, that of a NATS server started in
// this process with as many local workers as they need, which stop
// closes. logger says so.
func natsFor(given string, ss []strategy.Strategy, stderr io.Writer, logger *slog.Logger) (natsURL string, stop func() error, err error) {
	n := natsWorkersNeeded(ss)
	none := func() error { return nil }
	if n == 0 {
		return given, none, nil
	}
	if given != "" {
		// Said once, before anything runs, rather than by each server.
		r, err := strategy.NATS(1, given).Start(strategy.Env{Task: primetime.Prime})
		if err != nil {
			return "", nil, err
		}
		r.Stop()
		return given, none, nil
	}
	cluster, err := natslocal.Start(n, stderr)
	if err != nil {
		return "", nil, fmt.Errorf("starting NATS on this machine: %w", err)
	}
	logger.Info("a NATS server of its own, with local workers", "url", cluster.URL(), "workers", cluster.Pids)
	return cluster.URL(), cluster.Close, nil
}

func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCommand("worker", "primetime worker [-nats URL] [-n N]", stdout, stderr)
	natsURL := natsFlag(c, strategy.DefaultNATSURL, "`URL` of the NATS server to take tasks from")
	n := c.int("n", 1, positive, "how many worker processes, each running one task at a time")
	if code, ok := c.parse(args, 0); !ok {
		return code
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	w := strategy.NATSWorkers{URL: *natsURL, N: *n, Log: stderr, Ready: func(pids []int) {
		logger.Info("serving", "nats", *natsURL, "workers", pids)
	}}
	if err := w.Serve(ctx); err != nil {
		return c.fail(err, 1)
	}
	logger.Info("stopped")
	return 0
}
