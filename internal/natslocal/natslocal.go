// Package natslocal runs NATS on this machine for the NATS executor when
// nobody gives a URL: a NATS server on a free loopback port (the NATS
// project's own, embedded in this program), in a child process so that it
// shares no scheduler with a load generator, and worker processes of this
// program connected to it.
package natslocal

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/strategy"
)

// readyTimeout bounds the wait for a new NATS server to accept clients.
const readyTimeout = 5 * time.Second

// A Server is a NATS server running in this process on loopback.
type Server struct{ s *natsserver.Server }

// StartServer starts a NATS server on 127.0.0.1:port (0: a free port) and
// waits until it accepts clients.
func StartServer(port int) (*Server, error) {
	if port == 0 {
		port = natsserver.RANDOM_PORT
	}
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		return nil, fmt.Errorf("natslocal: %w", err)
	}
	s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("natslocal: the NATS server did not accept clients within %v", readyTimeout)
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

// The child process of a NATS server: its role, and the line it writes
// once it accepts clients.
const (
	roleServer = "nats-server"
	readyLine  = "primetime-nats-server/1"
)

func init() { reexec.RegisterRole(roleServer, serveChild) }

// serveChild is a NATS server process's entry point, reached through
// primetime.MaybeWorker: it serves until its stdin closes.
func serveChild() error {
	s, err := StartServer(0)
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

// A Cluster is a NATS server in a child process and n worker processes.
type Cluster struct {
	server *reexec.Server
	// Pids are the workers'.
	Pids   []int
	cancel context.CancelFunc
	served chan error

	stopOnce sync.Once
	stopErr  error
}

// Start starts a NATS server and n workers (strategy.NATSWorkers), their
// stderr on log, and returns once every worker serves.
func Start(n int, log io.Writer) (*Cluster, error) {
	cmd, err := reexec.Command("", nil, roleServer, log)
	if err != nil {
		return nil, err
	}
	srv, err := reexec.StartServer(cmd, readyLine, readyTimeout)
	if err != nil {
		return nil, fmt.Errorf("natslocal: starting a NATS server process: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cluster{server: srv, cancel: cancel, served: make(chan error, 1)}
	ready := make(chan []int, 1)
	w := strategy.NATSWorkers{URL: srv.Addr, N: n, Log: log, Ready: func(pids []int) { ready <- pids }}
	go func() { c.served <- w.Serve(ctx) }()
	select {
	case c.Pids = <-ready:
		return c, nil
	case err := <-c.served:
		cancel()
		srv.Stop(stopTimeout)
		return nil, err
	}
}

// stopTimeout bounds the wait for the NATS server process to exit.
const stopTimeout = 5 * time.Second

// URL returns the NATS server's client URL.
func (c *Cluster) URL() string { return c.server.Addr }

// StopWorkers stops the workers and waits for them; the server goes on.
func (c *Cluster) StopWorkers() error {
	c.stopOnce.Do(func() {
		c.cancel()
		c.stopErr = <-c.served
	})
	return c.stopErr
}

// Close stops the workers, then the server, and waits for them.
func (c *Cluster) Close() error {
	err := c.StopWorkers()
	if serr := c.server.Stop(stopTimeout); serr != nil && err == nil {
		err = fmt.Errorf("natslocal: the NATS server process: %w", serr)
	}
	return err
}
