package server

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
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
	// Once the server shuts down: draining, and how many bytes of what
	// the client had sent by then are still to decode.
	draining  bool
	drainLeft int

	// out holds the answer being written.
	out []byte
	// linger asks Close to drain what the client still sends before
	// closing, so that the error answer written last is not lost to a
	// reset.
	linger bool

	// mark is the conn's phase (waiting, reading, watchable, writing), and
	// since when, for the watchdog; see markAt.
	mark atomic.Int64

	// self lets the conn's tasks look at the connection themselves.
	self *selfWatch

	closeOnce sync.Once
	closeErr  error
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{}
	c.session.init(s, nc.RemoteAddr())
	c.nc = nc
	c.mark.Store(markAt(waiting, s.now()))
	c.cr = newConnReader(nc, c.clientLeft, &c.mark)
	c.watchSelf()
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
	// Clear the deadline a background read left before the connection is
	// marked as waiting: Shutdown, and the idle sweep, end a wait with a
	// deadline of their own, which must win. The request must come whole
	// within the idle timeout of the wait's start, however it trickles.
	if c.cr.takeTouched() {
		c.nc.SetReadDeadline(time.Time{})
		if c.mark.Load() == ended {
			return strategy.Request{}, errIdle
		}
	}
	if c.s.inShutdown.Load() && c.drained() {
		return strategy.Request{}, ErrServerClosed
	}
	begun := false // the request's first bytes have come
	for {
		in := *c.in
		if c.from == c.to && !c.eof {
			// Nothing to decode: what codecs say of no input is NeedMore.
			c.from, c.to = 0, 0
			if err := c.fill(in); err != nil {
				return strategy.Request{}, err
			}
			continue
		}
		n, d := c.codec.Decode(in[c.from:c.to], c.eof)
		if c.draining && n > 0 {
			if n > c.drainLeft {
				return strategy.Request{}, ErrServerClosed // sent after Shutdown began
			}
			c.drainLeft -= n
		}
		c.from += n
		switch d.Kind {
		case wire.Request:
			// Watched even with the next request already buffered: a
			// client that pipelines and leaves has left all the same.
			if c.s.mark(c, watchable) == ended {
				// The idle sweep ended the wait as the request came: it
				// came in time.
				c.nc.SetReadDeadline(time.Time{})
			}
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
			// An answer, if an error one: the wait starts again.
			if c.s.inShutdown.Load() && c.drained() {
				return strategy.Request{}, ErrServerClosed
			}
			begun = false
			continue
		}
		if c.from < c.to && !begun {
			// The request has begun to arrive: from now on the read
			// timeout bounds it, not the idle timeout.
			begun = true
			if c.s.mark(c, reading) == ended {
				c.nc.SetReadDeadline(time.Time{}) // it began in time
			}
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
		if err := c.fill(in); err != nil {
			return strategy.Request{}, err
		}
	}
}

// drained reports, once the server is shutting down, whether the conn has
// decoded every byte its client had sent when the conn first saw the
// shutdown: those it answers, as requests read before Shutdown; whatever
// comes after, it does not wait for.
func (c *conn) drained() bool {
	if !c.draining {
		c.draining = true
		c.drainLeft = c.to - c.from + socketPending(c.nc)
	}
	return c.drainLeft <= 0
}

// fill reads into in after what c holds; EOF is kept in c.eof. Shutdown
// ends a wait with a past deadline; bytes the client had sent by then are
// read all the same.
func (c *conn) fill(in []byte) error {
	k, err := c.cr.Read(in[c.to:])
	for err != nil && k == 0 && errors.Is(err, os.ErrDeadlineExceeded) && c.s.inShutdown.Load() &&
		c.mark.Load() != ended && c.s.baseCtx.Err() == nil && !c.drained() && c.drainLeft > c.to-c.from {
		c.nc.SetReadDeadline(time.Time{})
		k, err = c.cr.Read(in[c.to:])
	}
	c.to += k
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		c.eof = true
	default:
		return err
	}
	return nil
}

// WriteAnswer implements strategy.Conn.
func (c *conn) WriteAnswer(answer []byte, err error) error {
	c.out = c.appendAnswer(c.out[:0], answer, err)
	if werr := c.write(c.out); werr != nil {
		return werr
	}
	if c.codec.CloseAfter() {
		return errCloseAfter
	}
	// The client may have gone while its task ran: no request it
	// pipelined before it left is started.
	if c.left.Load() {
		return errClientLeft
	}
	return c.cr.gone()
}

// write writes b, an answer: the request in flight, if any, is done, and
// the wait for the next begins once it is written. The watchdog bounds how
// long the write takes, so that no deadline is set per answer: a write it
// ends fails, and so does one that it ends as it completes, whose
// connection the past deadline has made unusable.
func (c *conn) write(b []byte) error {
	c.s.mark(c, writing)
	c.cr.requestDone()
	_, err := c.nc.Write(b)
	if c.s.mark(c, waiting) == ended && err == nil {
		err = c.s.errWriteTimeout()
	}
	if err != nil {
		c.unwrittenLost()
	} else {
		c.written()
	}
	return err
}

// errIdle ends a connection that waited longer than the idle timeout.
var errIdle = errors.New("server: the connection waited longer than the idle timeout")

// Close implements strategy.Conn.
func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		if c.linger {
			c.drain()
		}
		c.closeErr = c.nc.Close()
		// The background read, if any, fails now that the connection is
		// closed; wait for it so that no goroutine outlives the conn.
		c.mark.Store(ended)
		c.cr.requestDone()
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

// connReader reads a connection for its conn and, once a request has been
// in flight for a while, reads it in the background to notice the client
// going away, as net/http does. The server's watchdog starts that read
// (see Server.watch), so that a request answered quickly, as most are,
// costs no goroutine, no deadline and no timer, and takes no lock: while
// busy is clear, nothing of the background read's is left to look at.
type connReader struct {
	nc     net.Conn
	onGone func() // ends the connection's context: the client has left

	// mark is the conn's: its phase says whether a request is in flight
	// and the client has sent nothing more yet.
	mark *atomic.Int64
	// busy is set before a background read may start, and cleared once
	// it has ended and left nothing for the conn: a byte, an error, a
	// read deadline moved.
	busy atomic.Bool

	mu      sync.Mutex
	cond    sync.Cond
	inRead  bool // a background read is in progress
	touched bool // the read deadline was changed here since takeTouched
	aborted bool // the background read was stopped on purpose
	hasByte bool // the background read got a byte, held in b
	b       [1]byte
	err     error // the background read's error: the client is gone
}

func newConnReader(nc net.Conn, onGone func(), mark *atomic.Int64) *connReader {
	cr := &connReader{nc: nc, onGone: onGone, mark: mark}
	cr.cond.L = &cr.mu
	return cr
}

func (cr *connReader) Read(p []byte) (int, error) {
	if !cr.busy.Load() {
		return cr.nc.Read(p)
	}
	return cr.readAfterBackground(p)
}

// readAfterBackground is Read once a background read has been: it gives
// the byte that read got, or its error, before reading on.
func (cr *connReader) readAfterBackground(p []byte) (int, error) {
	cr.mu.Lock()
	if cr.inRead {
		cr.mu.Unlock()
		panic("server: read during a background read")
	}
	if cr.hasByte && len(p) > 0 {
		p[0] = cr.b[0]
		cr.hasByte = false
		cr.settleLocked()
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

// settleLocked clears busy once the background read has left nothing.
func (cr *connReader) settleLocked() {
	if !cr.inRead && !cr.touched && !cr.hasByte && cr.err == nil {
		cr.busy.Store(false)
	}
}

// requestDone stops the background read, if any, once the conn's mark
// says that no request is in flight. With startBackgroundRead's, the order
// of the mark's store and busy's load means that either the watchdog sees
// the request done and starts nothing, or this sees busy set and waits for
// the read.
func (cr *connReader) requestDone() {
	if cr.busy.Load() {
		cr.abortPendingRead()
	}
}

// startBackgroundRead starts reading the connection while its request is
// in flight, unless there is nothing to learn from it.
func (cr *connReader) startBackgroundRead() {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	if cr.inRead || cr.err != nil || cr.hasByte {
		return
	}
	cr.busy.Store(true)
	if cr.mark.Load()&phaseMask != watchable {
		cr.settleLocked()
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
		cr.settleLocked()
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
	return cr.busy.Load() && cr.takeTouchedLocking()
}

func (cr *connReader) takeTouchedLocking() bool {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	t := cr.touched
	cr.touched = false
	cr.settleLocked()
	return t
}

// gone returns the error with which the client went away, if it has.
func (cr *connReader) gone() error {
	if !cr.busy.Load() {
		return nil
	}
	return cr.goneLocking()
}

func (cr *connReader) goneLocking() error {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return cr.err
}
