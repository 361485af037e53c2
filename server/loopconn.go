package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/policy"
	"github.com/primetime-lab/primetime/internal/reactor"
	"github.com/primetime-lab/primetime/internal/wire"
)

// The server's listener and connections are what the event loop serves.
var (
	_ reactor.Listener = (*listener)(nil)
	_ reactor.Conn     = (*loopConn)(nil)
)

// loopConn is a connection whose I/O the event loop does: it implements
// reactor.Conn.
type loopConn struct {
	session
	fd int
}

// AcceptConn implements reactor.Listener: it accepts as Accept does, and
// hands the connection's socket over to the loop, out of Go's network
// poller. With the descriptor table full, the connection waits, accepted,
// until a descriptor frees, as further clients wait in the kernel's queue.
// A connection without a socket of its own cannot be served by the loop:
// it is logged and closed.
func (ln *listener) AcceptConn() (reactor.Conn, error) {
	s := ln.s
	for {
		nc, err := ln.accept()
		if err != nil {
			return nil, err
		}
		fd, err := ln.handOver(nc)
		if err != nil {
			if s.slots != nil {
				<-s.slots
			}
			if errors.Is(err, ErrServerClosed) {
				return nil, err
			}
			s.logger().Error("the event loop cannot serve this connection; closed", "remote", nc.RemoteAddr().String(), "err", err)
			continue
		}
		c := &loopConn{fd: fd}
		c.session.init(s, nc.RemoteAddr())
		if !s.track(&c.session, nil) {
			closeFD(fd)
			c.end()
			return nil, ErrServerClosed
		}
		return c, nil
	}
}

// handOver returns a descriptor of nc's socket for the loop, and closes
// nc. A temporary failure is retried with the accept delays.
func (ln *listener) handOver(nc net.Conn) (int, error) {
	defer nc.Close()
	var backoff policy.Backoff
	for {
		fd, err := dupFD(nc)
		if err == nil || !isTemporary(err) {
			return fd, err
		}
		delay := backoff.Next()
		ln.s.logger().Warn("handing a connection to the event loop failed; retrying", "err", err, "delay", delay)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ln.s.done:
			t.Stop()
			return -1, ErrServerClosed
		}
	}
}

// Control implements reactor.Listener: it calls f with the listening
// socket's descriptor, if the net.Listener has one.
func (ln *listener) Control(f func(fd int)) error {
	rc, err := rawConn(ln.l)
	if err != nil {
		return err
	}
	return rc.Control(func(fd uintptr) { f(int(fd)) })
}

// Waiting implements reactor.Listener: the server has started, as when
// accept first waits; its channel is closed as Shutdown or Close begins.
func (ln *listener) Waiting() <-chan struct{} {
	ln.s.markStarted()
	return ln.s.done
}

// Closed implements reactor.Listener: it is done once Close is called, or
// Shutdown runs out of time.
func (ln *listener) Closed() context.Context { return ln.s.baseCtx }

// Policy implements reactor.Listener.
func (ln *listener) Policy() policy.Policy { return ln.s.pol }

// Logger implements reactor.Listener.
func (ln *listener) Logger() *slog.Logger { return ln.s.logger() }

func (c *loopConn) Fd() int                 { return c.fd }
func (c *loopConn) Codec() wire.ServerCodec { return c.codec }

func (c *loopConn) Start(payload []byte) (context.Context, primetime.Task) {
	r := c.request(payload)
	return r.Context, r.Task
}

func (c *loopConn) AppendAnswer(dst, answer []byte, err error) []byte {
	return c.appendAnswer(dst, answer, err)
}

func (c *loopConn) AppendRefusal(dst []byte, d wire.Decoded) []byte {
	return c.appendRefusal(dst, d)
}

func (c *loopConn) Written() { c.written() }
func (c *loopConn) Lost()    { c.unwrittenLost() }
func (c *loopConn) Gone()    { c.clientLeft() }
func (c *loopConn) Closed()  { c.end() }
