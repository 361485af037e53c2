// Package natslocal runs NATS on this machine for the NATS executor when
// nobody gives a URL: a NATS server on a free loopback port (the NATS
// project's own, embedded in this program), in a child process so that it
// shares no scheduler with a load generator, and worker processes of this
// program connected to it. The server admits only the holders of an nkey
// made for the run, whose seed reaches the workers and the child servers
// through their environment; if it dies, it is started again on its port.
package natslocal

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/strategy/natsexec"
)

// readyTimeout bounds the wait for a new NATS server to accept clients.
const readyTimeout = 5 * time.Second

// A Server is a NATS server running in this process on loopback.
type Server struct{ s *natsserver.Server }

// StartServer starts a NATS server on 127.0.0.1:port (0: a free port) and
// waits until it accepts clients. With users (nkeys' public keys), it
// admits only the clients that hold one of them; without, anyone.
func StartServer(port int, users ...string) (*Server, error) {
	if port == 0 {
		port = natsserver.RANDOM_PORT
	}
	o := &natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true}
	for _, u := range users {
		o.Nkeys = append(o.Nkeys, &natsserver.NkeyUser{Nkey: u})
	}
	s, err := natsserver.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("natslocal: %w", err)
	}
	s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("natslocal: the NATS server did not accept clients on port %d within %v", port, readyTimeout)
	}
	return &Server{s}, nil
}

// URL returns the server's client URL, as nats://127.0.0.1:PORT.
func (s *Server) URL() string { return s.s.ClientURL() }

// Port returns the port the server listens on.
func (s *Server) Port() int { return s.s.Addr().(*net.TCPAddr).Port }

// Close shuts the server down and waits for it.
func (s *Server) Close() {
	s.s.Shutdown()
	s.s.WaitForShutdown()
}

// The child process of a NATS server: its role, the line it writes once
// it accepts clients, and the environment that says its port and the
// public key of the nkey it admits.
const (
	roleServer = "nats-server"
	readyLine  = "primetime-nats-server/1"
	envPort    = "PRIMETIME_NATS_PORT"
	envUser    = "PRIMETIME_NATS_USER"
)

func init() { reexec.RegisterRole(roleServer, serveChild) }

// serveChild is a NATS server process's entry point, reached through
// primetime.MaybeWorker: it serves until its stdin closes.
func serveChild() error {
	port, err := strconv.Atoi(os.Getenv(envPort))
	if err != nil {
		return fmt.Errorf("natslocal: the NATS server process's %s: %w", envPort, err)
	}
	s, err := StartServer(port, os.Getenv(envUser))
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := fmt.Printf("%s %s\n", readyLine, s.URL()); err != nil {
		return err
	}
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// startServerProcess starts a NATS server process on port (0: a free
// one), admitting the nkey user.
func startServerProcess(port int, user string, log io.Writer) (*reexec.Server, error) {
	cmd, err := reexec.Command("", nil, roleServer, log, envPort+"="+strconv.Itoa(port), envUser+"="+user)
	if err != nil {
		return nil, err
	}
	srv, err := reexec.StartServer(cmd, readyLine, readyTimeout)
	if err != nil {
		return nil, fmt.Errorf("natslocal: starting a NATS server process: %w", err)
	}
	return srv, nil
}

// A Cluster is a NATS server in a child process, started again on its
// port whenever it dies, and n worker processes.
type Cluster struct {
	conn natsexec.Conn
	user string // the nkey's public key
	port int
	log  io.Writer
	// Pids are the workers'.
	Pids []int

	mu     sync.Mutex
	server *reexec.Server // the process now

	cancel     context.CancelFunc
	served     chan error    // the workers' Serve
	supervised chan struct{} // closed once the supervisor has returned

	stopOnce sync.Once
	stopErr  error
}

// Start starts a NATS server and n workers (natsexec.Workers), their
// stderr on log, and returns once every worker serves.
func Start(n int, log io.Writer) (*Cluster, error) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		return nil, fmt.Errorf("natslocal: making the run's nkey: %w", err)
	}
	seed, err := kp.Seed()
	if err != nil {
		return nil, fmt.Errorf("natslocal: making the run's nkey: %w", err)
	}
	user, err := kp.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("natslocal: making the run's nkey: %w", err)
	}
	srv, err := startServerProcess(0, user, log)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(srv.Addr)
	port, perr := strconv.Atoi(u.Port())
	if err != nil || perr != nil {
		srv.Kill()
		return nil, fmt.Errorf("natslocal: the NATS server process reported %q, not a URL with a port", srv.Addr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cluster{conn: natsexec.Conn{URL: srv.Addr, NKeySeed: string(seed)}, user: user, port: port, log: log,
		server: srv, cancel: cancel, served: make(chan error, 1), supervised: make(chan struct{})}
	go c.supervise(ctx)
	ready := make(chan []int, 1)
	w := natsexec.Workers{Conn: c.conn, N: n, Log: log, Ready: func(pids []int) { ready <- pids }}
	go func() { c.served <- w.Serve(ctx) }()
	select {
	case c.Pids = <-ready:
		return c, nil
	case err := <-c.served:
		c.stopServer()
		return nil, err
	}
}

// supervise starts the NATS server process again, on its port, each time
// it ends before Close, until ctx ends.
func (c *Cluster) supervise(ctx context.Context) {
	defer close(c.supervised)
	for {
		c.mu.Lock()
		srv := c.server
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-srv.Done():
		}
		fmt.Fprintf(c.log, "primetime: the NATS server (pid %d) ended (%v); starting it again on port %d\n", srv.Pid(), srv.Err(), c.port)
		for {
			next, err := startServerProcess(c.port, c.user, c.log)
			if err == nil {
				c.mu.Lock()
				c.server = next // stopServer stops it
				c.mu.Unlock()
				fmt.Fprintf(c.log, "primetime: the NATS server is back (pid %d)\n", next.Pid())
				break
			}
			fmt.Fprintf(c.log, "primetime: starting the NATS server again: %v\n", err)
			t := time.NewTimer(restartDelay)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// restartDelay is how long the supervisor waits before it tries again to
// start a NATS server that could not start.
const restartDelay = 200 * time.Millisecond

// stopTimeout bounds the wait for the NATS server process to exit.
const stopTimeout = 5 * time.Second

// Conn returns how to reach the NATS server and its workers: its URL and
// the run's nkey seed, for this process and its children only.
func (c *Cluster) Conn() natsexec.Conn { return c.conn }

// URL returns the NATS server's client URL.
func (c *Cluster) URL() string { return c.conn.URL }

// ServerPid returns the NATS server process's pid now.
func (c *Cluster) ServerPid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.server.Pid()
}

// StopWorkers stops the workers and waits for them; the server goes on.
func (c *Cluster) StopWorkers() error {
	c.stopOnce.Do(func() {
		c.cancel()
		c.stopErr = <-c.served
	})
	return c.stopErr
}

// stopServer stops supervising the NATS server, then stops it.
func (c *Cluster) stopServer() error {
	c.cancel()
	<-c.supervised
	c.mu.Lock()
	srv := c.server
	c.mu.Unlock()
	return srv.Stop(stopTimeout)
}

// Close stops the workers, then the server, and waits for them.
func (c *Cluster) Close() error {
	err := c.StopWorkers()
	if serr := c.stopServer(); serr != nil && err == nil {
		err = fmt.Errorf("natslocal: the NATS server process: %w", serr)
	}
	return err
}
