// Package natslocal runs NATS on this machine for the NATS executor when
// nobody gives a URL: a NATS server in this process, on a free loopback
// port (the NATS project's own, embedded), and worker processes of this
// program connected to it.
package natslocal

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

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

// A Cluster is a NATS server in this process and n worker processes.
type Cluster struct {
	*Server
	Pids   []int // the workers'
	cancel context.CancelFunc
	served chan error

	stopOnce sync.Once
	stopErr  error
}

// Start starts a NATS server and n workers (strategy.NATSWorkers), their
// stderr on log, and returns once every worker serves.
func Start(n int, log io.Writer) (*Cluster, error) {
	s, err := StartServer(0)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cluster{Server: s, cancel: cancel, served: make(chan error, 1)}
	ready := make(chan []int, 1)
	w := strategy.NATSWorkers{URL: s.URL(), N: n, Log: log, Ready: func(pids []int) { ready <- pids }}
	go func() { c.served <- w.Serve(ctx) }()
	select {
	case c.Pids = <-ready:
		return c, nil
	case err := <-c.served:
		cancel()
		s.Close()
		return nil, err
	}
}

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
	c.Server.Close()
	return err
}
