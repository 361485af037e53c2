package server

import (
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/strategy"
)

// Accept retry delays, as net/http's: a temporary error is retried after
// 5 ms, doubling up to 1 s; a success resets the delay.
const (
	acceptDelayMin = 5 * time.Millisecond
	acceptDelayMax = time.Second
)

// listener presents a net.Listener to a strategy: it retries temporary
// errors, tracks the connections it accepts, and reports ErrServerClosed
// once the server is closing.
type listener struct {
	s     *Server
	l     net.Listener
	lock  *gil.GIL
	delay time.Duration
}

// GIL returns the emulated interpreter lock in Python mode, or nil; the
// strategies of package strategy look for this method.
func (ln *listener) GIL() *gil.GIL { return ln.lock }

func (ln *listener) Accept() (strategy.Conn, error) {
	s := ln.s
	for {
		nc, err := ln.l.Accept()
		if err != nil {
			if s.inShutdown.Load() {
				return nil, ErrServerClosed
			}
			if !isTemporary(err) {
				// The strategy waits for its connections before it
				// returns, so close them rather than leave Serve
				// waiting for clients that may never go.
				s.logger().Error("accept failed; closing the server", "err", err)
				s.closeAll()
				return nil, err
			}
			ln.delay = min(max(2*ln.delay, acceptDelayMin), acceptDelayMax)
			s.logger().Warn("accept failed; retrying", "err", err, "delay", ln.delay)
			t := time.NewTimer(ln.delay)
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
			}
			continue
		}
		ln.delay = 0
		c := s.track(nc)
		if c == nil {
			nc.Close()
			return nil, ErrServerClosed
		}
		return c, nil
	}
}

// isTemporary reports whether an accept error may go away by itself: the
// process or the system is out of descriptors or buffers, or a client gave
// up before it was accepted.
func isTemporary(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// track registers a new connection, or returns nil if the server is
// closing.
func (s *Server) track(nc net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inShutdown.Load() {
		return nil
	}
	c := newConn(s, nc, s.proto)
	s.conns[c] = struct{}{}
	s.stats.accepted.Add(1)
	s.stats.open.Add(1)
	return c
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c]; ok {
		delete(s.conns, c)
		s.stats.open.Add(-1)
	}
}

// setIdle records whether c waits for a request. Marking it idle fails, and
// setIdle returns false, once the server is shutting down.
func (s *Server) setIdle(c *conn, idle bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.idle = idle
	return !(idle && s.inShutdown.Load())
}
