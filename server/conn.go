package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/strategy"
)

// conn is the server's side of one connection; it implements strategy.Conn
// for any of the wire protocols.
type conn struct {
	s     *Server
	nc    net.Conn
	cr    *connReader
	lr    io.LimitedReader // bounds what one request may read, for http
	br    *bufio.Reader
	proto protocol

	ctx    context.Context // done when the connection closes
	cancel context.CancelFunc

	// out holds the answer being written.
	out []byte
	// linger asks Close to drain what the client still sends before
	// closing, so that the error line written last is not lost to a reset.
	linger bool
	// reqCancel ends the request's own context, when it has one.
	reqCancel context.CancelFunc
	// closeAfter asks that the connection close once the request in
	// flight is answered (HTTP/1.0, "Connection: close").
	closeAfter bool
	// http is the HTTP request in flight, for the http protocol.
	http *http.Request
	// recv is the buffer of the recv protocol's reads.
	recv []byte

	// idle is true while the connection waits for a request; guarded by
	// s.mu.
	idle bool

	// readDeadline and writeDeadline are the deadlines last set by
	// refresh.
	readDeadline, writeDeadline time.Time

	closeOnce sync.Once
	closeErr  error
}

// maxDeadlineSlack is how far short of its full length refresh lets a
// deadline fall, at most, before it sets it again; a short timeout gets an
// eighth of its length. Setting a deadline modifies a runtime timer, which
// can wake the network poller: once a second is plenty for timeouts of
// seconds or minutes.
const maxDeadlineSlack = time.Second

// refresh sets a deadline limit from now (zero: def; negative: none) with
// set, unless the one last set, *last, is within the slack of it. stale
// forces the set, for a deadline that someone else has changed.
func (c *conn) refresh(last *time.Time, limit, def time.Duration, set func(time.Time) error, stale bool) {
	want := timeout(limit, def)
	if limit == 0 {
		limit = def
	}
	slack := min(limit/8, maxDeadlineSlack)
	if !stale && !last.IsZero() && !want.IsZero() && want.Sub(*last) < slack {
		return
	}
	if !stale && last.IsZero() && want.IsZero() {
		return
	}
	set(want)
	*last = want
}

func newConn(s *Server, nc net.Conn, proto protocol) *conn {
	c := &conn{s: s, nc: nc, proto: proto}
	c.ctx, c.cancel = context.WithCancel(s.baseCtx)
	c.cr = newConnReader(nc, c.cancel)
	c.lr = io.LimitedReader{R: c.cr, N: math.MaxInt64}
	c.br = s.newReader(&c.lr)
	return c
}

// errRefused is returned by a protocol's read for a request it has
// answered itself (a bad path, a wrong method) on a connection that goes on.
var errRefused = errors.New("server: request refused")

// errCloseAfter ends a connection whose client asked for it to close once
// its request was answered.
var errCloseAfter = errors.New("server: connection closes after the answer")

// ReadRequest implements strategy.Conn.
func (c *conn) ReadRequest() (strategy.Request, error) {
	var payload []byte
	for {
		// Set the deadline before the connection is marked idle:
		// Shutdown wakes idle connections with a deadline of its own,
		// which must win.
		c.refresh(&c.readDeadline, c.s.IdleTimeout, DefaultIdleTimeout, c.nc.SetReadDeadline, c.cr.takeTouched())
		if !c.s.setIdle(c, true) {
			return strategy.Request{}, ErrServerClosed
		}
		var err error
		payload, err = c.proto.read(c)
		if err == nil {
			break
		}
		if errors.Is(err, errRefused) && !c.linger && !c.closeAfter {
			continue
		}
		return strategy.Request{}, err
	}
	c.s.stats.requests.Add(1)
	// With more bytes already buffered the client has pipelined its next
	// request, and reading the connection would tell nothing.
	c.cr.requestStarted(c.br.Buffered() == 0)
	c.s.setIdle(c, false)
	// The request's context is the connection's: a client that goes away
	// ends both, and sharing it costs no allocation per request. A request
	// timeout needs a context of its own.
	ctx := c.ctx
	if d := c.s.RequestTimeout; d > 0 {
		ctx, c.reqCancel = context.WithTimeout(c.ctx, d)
	}
	return strategy.Request{Context: ctx, Task: c.s.task(), Payload: payload}, nil
}

// refuse answers a request that never reaches a task: it counts an error
// and writes out, which the protocol has formatted.
func (c *conn) refuse(out []byte) error {
	c.s.stats.requests.Add(1)
	c.s.stats.errors.Add(1) // before the write, as in WriteAnswer
	c.out = out
	if err := c.write(out); err != nil {
		return err
	}
	return errRefused
}

// WriteAnswer implements strategy.Conn.
func (c *conn) WriteAnswer(answer []byte, err error) error {
	c.cr.requestDone()
	if c.reqCancel != nil {
		c.reqCancel()
		c.reqCancel = nil
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("request timed out after %v: %w", c.s.RequestTimeout, err)
		}
	}
	// Count before writing, so that a client that has read its answer
	// finds it counted.
	if err != nil {
		c.logTaskError(err)
		c.s.stats.errors.Add(1)
	} else {
		c.s.stats.answered.Add(1)
	}
	c.out = c.proto.format(c, c.out[:0], answer, err)
	if werr := c.write(c.out); werr != nil {
		return werr
	}
	if c.closeAfter {
		return errCloseAfter
	}
	// The client may have gone while its task ran.
	return c.cr.gone()
}

func (c *conn) write(b []byte) error {
	c.refresh(&c.writeDeadline, c.s.WriteTimeout, DefaultWriteTimeout, c.nc.SetWriteDeadline, false)
	_, err := c.nc.Write(b)
	return err
}

func (c *conn) logTaskError(err error) {
	var p *strategy.PanicError
	switch {
	case errors.As(err, &p):
		c.s.logger().Error("task panicked", "task", p.Task, "panic", fmt.Sprint(p.Value),
			"remote", c.nc.RemoteAddr().String(), "stack", string(p.Stack))
	case errors.Is(err, primetime.ErrBadRequest), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
	default:
		c.s.logger().Warn("task failed", "err", err, "remote", c.nc.RemoteAddr().String())
	}
}

// lingerTimeout bounds how long Close drains a connection it closes after
// an error line.
const lingerTimeout = 500 * time.Millisecond

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
		if c.reqCancel != nil {
			c.reqCancel()
		}
		c.cancel()
		c.s.untrack(c)
		c.s.readers.Put(c.br)
		c.br = nil
	})
	return c.closeErr
}

// drain closes the write side, so the client sees the error line and then
// EOF, and reads what the client still sends for a short while. Closing a
// socket with unread input sends a reset, which can destroy the error line
// before the client reads it.
func (c *conn) drain() {
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.nc.SetReadDeadline(time.Now().Add(lingerTimeout))
	io.CopyN(io.Discard, c.nc, 64<<10)
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
