package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/reactor"
	"github.com/primetime-lab/primetime/internal/wire"
)

// loopConn is a connection whose I/O the event loop does: it implements
// reactor.Conn.
type loopConn struct {
	session
	fd int
}

// AcceptConn implements reactor.Listener: it accepts as Accept does, and
// hands the connection's socket over to the loop, out of Go's network
// poller. A connection without a socket of its own cannot be served by the
// loop: it is logged and closed.
func (ln *listener) AcceptConn() (reactor.Conn, error) {
	s := ln.s
	for {
		nc, err := ln.accept()
		if err != nil {
			return nil, err
		}
		remote := nc.RemoteAddr()
		fd, err := detach(nc)
		if err != nil {
			s.logger().Error("the event loop cannot serve this connection; closed", "remote", remote.String(), "err", err)
			if s.slots != nil {
				<-s.slots
			}
			continue
		}
		c := &loopConn{fd: fd}
		c.session.init(s, remote)
		if !s.track(&c.session) {
			closeFD(fd)
			c.end()
			return nil, ErrServerClosed
		}
		return c, nil
	}
}

// Closed implements reactor.Listener: it is done once Close is called, or
// Shutdown runs out of time.
func (ln *listener) Closed() context.Context { return ln.s.baseCtx }

// Limits implements reactor.Listener.
func (ln *listener) Limits() (idle, write time.Duration) {
	limit := func(d, def time.Duration) time.Duration {
		switch {
		case d == 0:
			return def
		case d < 0:
			return 0
		}
		return d
	}
	return limit(ln.s.IdleTimeout, DefaultIdleTimeout), limit(ln.s.WriteTimeout, DefaultWriteTimeout)
}

// Logger implements reactor.Listener.
func (ln *listener) Logger() *slog.Logger { return ln.s.logger() }

func (c *loopConn) Fd() int                 { return c.fd }
func (c *loopConn) Codec() wire.ServerCodec { return c.codec }

func (c *loopConn) Start() (context.Context, primetime.Task) {
	r := c.request(nil)
	return r.Context, r.Task
}

func (c *loopConn) AppendAnswer(dst, answer []byte, err error) []byte {
	return c.appendAnswer(dst, answer, err)
}

func (c *loopConn) AppendRefusal(dst []byte, d wire.Decoded) []byte {
	return c.appendRefusal(dst, d)
}

func (c *loopConn) Gone()   { c.cancel() }
func (c *loopConn) Closed() { c.end() }
