package server

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/primetime-lab/primetime/internal/policy"
	"github.com/primetime-lab/primetime/internal/wire"
	"github.com/primetime-lab/primetime/strategy"
)

// conn is a connection served by a goroutine: it implements
// strategy.Conn for any of the wire protocols.
type conn struct {
	session
	cr *connReader

	// in holds the bytes read and not yet decoded, in[from:to]; it is
	// one of the server's pooled buffers, as large as the codec needs.
	in       *[]byte
	from, to int
	eof      bool

	// out holds the answer being written.
	out []byte
	// linger asks Close to drain what the client still sends before
	// closing, so that the error answer written last is not lost to a
	// reset.
	linger bool

	// readDeadline and writeDeadline are the deadlines last set by
	// refresh.
	readDeadline, writeDeadline time.Time

	closeOnce sync.Once
	closeErr  error
}

// refresh sets a deadline limit from now (0: none) with set, unless the
// one last set, *last, is within the policy's slack of it: setting a
// deadline modifies a runtime timer, which can wake the network poller.
// stale forces the set, for a deadline that someone else has changed.
func (c *conn) refresh(last *time.Time, limit time.Duration, set func(time.Time) error, stale bool) {
	var want time.Time
	if limit > 0 {
		want = time.Now().Add(limit)
	}
	slack := policy.Slack(limit)
	if !stale && !last.IsZero() && !want.IsZero() && want.Sub(*last) < slack {
		return
	}
	if !stale && last.IsZero() && want.IsZero() {
		return
	}
	set(want)
	*last = want
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{}
	c.session.init(s, nc.RemoteAddr())
	c.nc = nc
	c.cr = newConnReader(nc, c.cancel)
	c.in = s.buffer(c.codec.BufferSize())
	return c
}

// errRefusedClose ends a connection whose request was refused in a way that
// leaves it unusable.
var errRefusedClose = errors.New("server: request refused; closing the connection")

// errCloseAfter ends a connection whose client asked for it to close once
// its request was answered.
var errCloseAfter = errors.New("server: connection closes after the answer")

// ReadRequest implements strategy.Conn.
func (c *conn) ReadRequest() (strategy.Request, error) {
	for {
		// Set the deadline before the connection is marked idle:
		// Shutdown wakes idle connections with a deadline of its own,
		// which must win.
		c.refresh(&c.readDeadline, c.s.pol.IdleTimeout, c.nc.SetReadDeadline, c.cr.takeTouched())
		if !c.s.setIdle(c, true) {
			return strategy.Request{}, ErrServerClosed
		}
		in := *c.in
		n, d := c.codec.Decode(in[c.from:c.to], c.eof)
		c.from += n
		switch d.Kind {
		case wire.Request:
			// With more bytes already buffered the client has pipelined
			// its next request, and reading the connection would tell
			// nothing.
			c.cr.requestStarted(c.from == c.to)
			c.s.setIdle(c, false)
			return c.request(d.Payload), nil
		case wire.Refused:
			c.out = c.appendRefusal(c.out[:0], d)
			if err := c.write(c.out); err != nil {
				return strategy.Request{}, err
			}
			if d.Close || c.codec.CloseAfter() {
				c.linger = d.Close
				return strategy.Request{}, errRefusedClose
			}
			continue
		}
		if c.eof {
			return strategy.Request{}, io.EOF
		}
		switch {
		case c.from == c.to:
			c.from, c.to = 0, 0
		case c.from == 0 && c.to == len(in):
			// A codec decides by its BufferSize; reading on would spin.
			return strategy.Request{}, errors.New("server: the protocol's codec wants more than its buffer holds")
		case c.to == len(in):
			c.to = copy(in, in[c.from:c.to])
			c.from = 0
		}
		k, err := c.cr.Read(in[c.to:])
		c.to += k
		switch {
		case errors.Is(err, io.EOF):
			c.eof = true
		case err != nil:
			return strategy.Request{}, err
		}
	}
}

// WriteAnswer implements strategy.Conn.
func (c *conn) WriteAnswer(answer []byte, err error) error {
	c.cr.requestDone()
	c.out = c.appendAnswer(c.out[:0], answer, err)
	if werr := c.write(c.out); werr != nil {
		return werr
	}
	if c.codec.CloseAfter() {
		return errCloseAfter
	}
	// The client may have gone while its task ran.
	return c.cr.gone()
}

func (c *conn) write(b []byte) error {
	c.refresh(&c.writeDeadline, c.s.pol.WriteTimeout, c.nc.SetWriteDeadline, false)
	_, err := c.nc.Write(b)
	return err
}

// Close implements strategy.Conn.
func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		if c.linger {
			c.drain()
		}
		c.closeErr = c.nc.Close()
		// The background read, if any, fails now that the connection is
		// closed; wait for it so that no goroutine outlives the conn.
		c.cr.requestDone()
		c.s.mu.Lock()
		delete(c.s.active, c)
		c.s.mu.Unlock()
		c.end()
		c.s.buffers.Put(c.in)
		c.in = nil
	})
	return c.closeErr
}

// drain closes the write side, so the client sees the error answer and then
// EOF, and reads what the client still sends for a short while. Closing a
// socket with unread input sends a reset, which can destroy the error
// answer before the client reads it.
func (c *conn) drain() {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.nc.SetReadDeadline(time.Now().Add(policy.LingerTimeout))
	io.CopyN(io.Discard, c.nc, policy.LingerBytes)
}

// connReader reads a connection for its bufio.Reader and, once a request
// has been in flight for a while, reads it in the background to notice the
// client going away, as net/http does. The server's watchdog starts that
// read (see Server.watch), so that a request answered quickly, as most
// are, costs no goroutine, no deadline and no timer.
type connReader struct {
	nc     net.Conn
	onGone context.CancelFunc // ends the connection's context

	mu        sync.Mutex
	cond      sync.Cond
	inFlight  bool // a request is in flight
	watchable bool // and the client has sent nothing more yet
	inRead    bool // a background read is in progress
	touched   bool // the read deadline was changed here since takeTouched
	aborted   bool // the background read was stopped on purpose
	hasByte   bool // the background read got a byte, held in b
	b         [1]byte
	err       error // the background read's error: the client is gone
}

func newConnReader(nc net.Conn, onGone context.CancelFunc) *connReader {
	cr := &connReader{nc: nc, onGone: onGone}
	cr.cond.L = &cr.mu
	return cr
}

func (cr *connReader) Read(p []byte) (int, error) {
	cr.mu.Lock()
	if cr.inRead {
		cr.mu.Unlock()
		panic("server: read during a background read")
	}
	if cr.hasByte && len(p) > 0 {
		p[0] = cr.b[0]
		cr.hasByte = false
		cr.mu.Unlock()
		return 1, nil
	}
	if err := cr.err; err != nil {
		cr.mu.Unlock()
		return 0, err
	}
	cr.mu.Unlock()
	return cr.nc.Read(p)
}

// requestStarted records that a request has just been read; watchable is
// false when the client has already sent more.
func (cr *connReader) requestStarted(watchable bool) {
	cr.mu.Lock()
	cr.inFlight, cr.watchable = true, watchable
	cr.mu.Unlock()
}

// requestDone records that the request is answered, and stops the
// background read, if any.
func (cr *connReader) requestDone() {
	cr.mu.Lock()
	cr.inFlight = false
	cr.mu.Unlock()
	cr.abortPendingRead()
}

// startBackgroundRead starts reading the connection while its request is
// in flight, unless there is nothing to learn from it.
func (cr *connReader) startBackgroundRead() {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if !cr.inFlight || !cr.watchable || cr.inRead || cr.err != nil || cr.hasByte {
		return
	}
	cr.inRead = true
	cr.touched = true
	// Under the lock, so that abortPendingRead's deadline comes after.
	cr.nc.SetReadDeadline(time.Time{})
	go cr.backgroundRead()
}

// backgroundRead reads the connection until the client sends more, goes
// away, or requestDone stops it. A client that has gone ends the
// connection's context. abortPendingRead waits for it.
func (cr *connReader) backgroundRead() {
	n, err := cr.nc.Read(cr.b[:])
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if n == 1 {
		cr.hasByte = true
	}
	var ne net.Error
	if err != nil && !(cr.aborted && errors.As(err, &ne) && ne.Timeout()) {
		cr.err = err
		cr.onGone()
	}
	cr.inRead = false
	cr.cond.Broadcast()
}

// abortPendingRead stops the background read, if any, and waits for it.
func (cr *connReader) abortPendingRead() {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if !cr.inRead {
		return
	}
	cr.aborted = true
	cr.touched = true
	cr.nc.SetReadDeadline(aLongTimeAgo)
	for cr.inRead {
		cr.cond.Wait()
	}
	cr.aborted = false
}

// takeTouched reports whether the read deadline was changed here since the
// last call.
func (cr *connReader) takeTouched() bool {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	t := cr.touched
	cr.touched = false
	return t
}

// gone returns the error with which the client went away, if it has.
func (cr *connReader) gone() error {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return cr.err
}
