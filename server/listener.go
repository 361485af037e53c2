package server

import (
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/primetime-lab/primetime/internal/policy"
	"github.com/primetime-lab/primetime/strategy"
)

// listener presents a net.Listener to a strategy: it retries temporary
// errors, tracks the connections it accepts, and reports ErrServerClosed
// once the server is closing.
type listener struct {
	s       *Server
	l       net.Listener
	backoff policy.Backoff
}

// Accept implements strategy.Listener.
func (ln *listener) Accept() (strategy.Conn, error) {
	nc, err := ln.accept()
	if err != nil {
		return nil, err
	}
	c := newConn(ln.s, nc)
	if !ln.s.track(&c.session, c) {
		c.Close()
		return nil, ErrServerClosed
	}
	return c, nil
}

// accept accepts the next connection, holding a place for it when MaxConns
// is set, and retries temporary errors.
func (ln *listener) accept() (net.Conn, error) {
	s := ln.s
	s.markStarted()
	for {
		if s.slots != nil {
			// At MaxConns, wait for a connection to close before
			// accepting another.
			select {
			case s.slots <- struct{}{}:
			case <-s.done:
				return nil, ErrServerClosed
			}
		}
		nc, err := ln.l.Accept()
		if err != nil && s.slots != nil {
			<-s.slots
		}
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
			delay := ln.backoff.Next()
			s.logger().Warn("accept failed; retrying", "err", err, "delay", delay)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
			}
			continue
		}
		ln.backoff.Reset()
		return nc, nil
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

// track registers a new connection's session, and its goroutine conn if
// it has one (nil for the event loop's), whose place accept has taken, and
// reports whether it may be served: not once Close has closed the server.
// A connection accepted as Shutdown begins is served: the request it has
// sent is answered, as every request read before Shutdown is. A session
// that is not tracked is ended all the same: end gives its place back.
func (s *Server) track(ss *session, c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.accepted.Add(1)
	s.stats.open.Add(1)
	s.conns[ss] = c
	return s.baseCtx.Err() == nil
}

func (s *Server) untrack(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[ss]; ok {
		ss.own.addTo(&s.stats.ended)
		ss.counts = &s.stats.ended
		delete(s.conns, ss)
		s.stats.open.Add(-1)
		if s.slots != nil {
			<-s.slots
		}
	}
}
