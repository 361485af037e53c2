package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/cpus"
	"github.com/primetime-lab/primetime/internal/natslocal"
	"github.com/primetime-lab/primetime/strategy"
	"github.com/primetime-lab/primetime/strategy/natsexec"
)

// natsFlags are the flags that say how to reach a NATS server: its URL,
// the pool's prefix and the credentials, none of which a command line
// shows (a file of the user's own, or the environment).
type natsFlags struct {
	url, prefix, creds, nkey, tokenFile, user, ca, cert, key string
}

// envNATSPassword holds the password of -nats-user.
const envNATSPassword = "PRIMETIME_NATS_PASSWORD"

// addNATSFlags adds the NATS flags, with -nats's default and usage.
func addNATSFlags(c *command, def, usage string) *natsFlags {
	f := &natsFlags{url: def}
	c.Func("nats", usage, func(s string) error {
		if err := (natsexec.Conn{URL: s}).Check(); err != nil {
			return err
		}
		f.url = s
		return nil
	})
	c.StringVar(&f.prefix, "nats-prefix", "", "the `prefix` of the pool's subjects on the NATS server (default \""+natsexec.DefaultPrefix+"\"), so that several pools share one")
	c.StringVar(&f.creds, "nats-creds", "", "NATS credentials `file` (a JWT and its nkey seed)")
	c.StringVar(&f.nkey, "nats-nkey", "", "`file` holding the NATS nkey seed")
	c.StringVar(&f.tokenFile, "nats-token-file", "", "`file` holding the NATS token (readable by its owner only)")
	c.StringVar(&f.user, "nats-user", "", "NATS `user`, whose password is in $"+envNATSPassword)
	c.StringVar(&f.ca, "nats-ca", "", "`file` of the certificates to trust for the NATS server's TLS")
	c.StringVar(&f.cert, "nats-cert", "", "`file` of the client certificate for the NATS server's TLS (with -nats-key)")
	c.StringVar(&f.key, "nats-key", "", "`file` of the client certificate's key (with -nats-cert)")
	return f
}

// natsUsage is -nats's usage in compare and serve.
const natsUsage = "`URL` of the NATS server whose workers run the tasks of the nats executor (\"primetime worker\" serves them); without it, a NATS server of its own (a child process, admitting only this run's processes) and local workers, as many as the tasks in flight"

// conn returns the connection the flags say, or what is wrong with them.
func (f *natsFlags) conn() (natsexec.Conn, error) {
	c := natsexec.Conn{URL: f.url, Prefix: f.prefix, CredsFile: f.creds, NKeySeedFile: f.nkey, User: f.user,
		CAFile: f.ca, CertFile: f.cert, KeyFile: f.key}
	if f.user != "" {
		c.Password = os.Getenv(envNATSPassword)
	}
	if f.tokenFile != "" {
		token, err := readSecret(f.tokenFile)
		if err != nil {
			return natsexec.Conn{}, fmt.Errorf("-nats-token-file: %w", err)
		}
		c.Token = token
	}
	if err := c.Check(); err != nil {
		return natsexec.Conn{}, err
	}
	return c, nil
}

// readSecret reads a secret from a file that only its owner may read.
func readSecret(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is readable by others (mode %v): chmod 600 it", name, st.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", err
	}
	secret := strings.TrimSpace(string(b))
	if secret == "" {
		return "", fmt.Errorf("%s is empty", name)
	}
	return secret, nil
}

// natsWorkersNeeded returns how many workers the strategies that run their
// tasks over NATS need, the most tasks any has in flight, or 0 if none does.
func natsWorkersNeeded(ss []strategy.Strategy) int {
	n := 0
	for _, s := range ss {
		if e := strategy.Describe(s).Executor; e.Name == natsexec.Name {
			n = max(n, cpus.Or(e.Size))
		}
	}
	return n
}

// natsFor returns how the strategies ss reach NATS: as the flags say, if
// they name a server; otherwise, if any of them needs NATS, a NATS server
// started by this process with as many local workers as they need, which
// stop closes. logger says so.
func natsFor(flags *natsFlags, ss []strategy.Strategy, stderr io.Writer, logger *slog.Logger) (conn natsexec.Conn, local bool, stop func() error, err error) {
	n := natsWorkersNeeded(ss)
	none := func() error { return nil }
	if conn, err = flags.conn(); err != nil || n == 0 {
		return conn, false, none, err
	}
	if flags.url == "" {
		cluster, err := natslocal.Start(n, stderr)
		if err != nil {
			return conn, false, nil, fmt.Errorf("starting NATS on this machine: %w", err)
		}
		logger.Info("a NATS server of its own, with local workers", "url", cluster.URL(), "workers", cluster.Pids)
		return cluster.Conn(), true, cluster.Close, nil
	}
	// Said once, before anything runs, rather than by each server.
	r, err := natsexec.New(1, conn).Start(strategy.Env{Task: primetime.Prime, Logger: logger})
	if err != nil {
		return conn, false, nil, err
	}
	r.Stop()
	return conn, false, none, nil
}

func runWorker(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCommand("worker", "primetime worker [-nats URL] [-n N]", stdout, stderr)
	nats := addNATSFlags(c, natsexec.DefaultURL, "`URL` of the NATS server to take tasks from")
	n := c.int("n", 1, positive, "how many worker processes, each running one task at a time")
	if code, ok := c.parse(args, 0); !ok {
		return code
	}
	conn, err := nats.conn()
	if err != nil {
		return c.usageError(err.Error())
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	w := natsexec.Workers{Conn: conn, N: *n, Log: stderr, Ready: func(pids []int) {
		logger.Info("serving", "nats", conn.URL, "workers", pids)
	}}
	if err := w.Serve(ctx); err != nil {
		return c.fail(err, 1)
	}
	logger.Info("stopped")
	return 0
}
