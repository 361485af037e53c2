package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/primetime-lab/primetime/internal/wire"
)

// conn is a client's connection, dialled on demand and closed on error.
type conn struct {
	at    endpoint
	end   time.Time
	codec wire.ClientCodec
	// in holds what the server sent and the codec has not decoded yet,
	// in[from:to].
	in       []byte
	from, to int

	mu          sync.Mutex // guards nc against interrupt
	nc          net.Conn
	interrupted bool
}

// Sizes of a client's input buffer: it grows for a long answer, up to
// maxAnswer.
const (
	answerBuffer = 4096
	maxAnswer    = 1 << 20
)

// newConn returns a connection to e, not yet dialled.
func (r *generator) newConn(e endpoint) *conn {
	return &conn{at: e, end: time.Unix(0, r.end.Load()), codec: e.codec(), in: make([]byte, answerBuffer)}
}

// dial connects, unless the connection is open.
func (c *conn) dial(ctx context.Context) error {
	if c.nc != nil {
		return nil
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.at.addr)
	if err != nil {
		return err
	}
	// Every wait of the run ends with the run.
	nc.SetDeadline(c.end)
	if nc, err = c.at.secure(ctx, nc); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.interrupted {
		nc.Close()
		return context.Canceled
	}
	c.nc = nc
	c.from, c.to = 0, 0
	return nil
}

// ask sends one request and reads its answer, whose body is valid until
// the next ask. On error, or when the server says it closes, the
// connection is closed; the error is an *askError, which says what kind of
// failure it was.
func (c *conn) ask(request []byte) (wire.Answer, error) {
	if _, err := c.nc.Write(request); err != nil {
		c.close()
		return wire.Answer{}, &askError{errWrite, err}
	}
	a, err := c.read()
	if err != nil {
		c.close()
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return a, &askError{errClosed, errors.New("the server closed the connection")}
		case errors.Is(err, wire.ErrMalformed), errors.Is(err, errAnswerTooLong):
			return a, &askError{errBadAnswer, err}
		}
		return a, &askError{errRead, err}
	}
	if a.Close {
		c.close()
	}
	return a, nil
}

// An askError is a request that got no answer, and the kind of failure
// it counts as.
type askError struct {
	kind errKind
	err  error
}

func (e *askError) Error() string { return e.err.Error() }
func (e *askError) Unwrap() error { return e.err }

// kindOf returns the kind of failure of an error of ask.
func kindOf(err error) errKind {
	if ae, ok := err.(*askError); ok {
		return ae.kind
	}
	return errRead
}

// errAnswerTooLong is the error of an answer over maxAnswer bytes.
var errAnswerTooLong = fmt.Errorf("answer longer than %d bytes", maxAnswer)

// read reads until the codec finds an answer, and returns it.
func (c *conn) read() (wire.Answer, error) {
	for {
		n, a, err := c.codec.DecodeAnswer(c.in[c.from:c.to])
		c.from += n
		if err != nil || (n > 0 && !a.Partial) {
			return a, err
		}
		if c.from == c.to {
			c.from, c.to = 0, 0
		}
		switch {
		case c.from > 0:
			c.to = copy(c.in, c.in[c.from:c.to])
			c.from = 0
		case c.to == len(c.in) && len(c.in) >= maxAnswer:
			return wire.Answer{}, errAnswerTooLong
		case c.to == len(c.in):
			c.in = append(c.in, make([]byte, len(c.in))...)
		}
		k, err := c.nc.Read(c.in[c.to:])
		c.to += k
		if err != nil && k == 0 {
			if errors.Is(err, io.EOF) {
				if d, ok := c.codec.(wire.EOFDecoder); ok && c.from == c.to {
					if a, ok := d.DecodeEOF(); ok {
						return a, nil
					}
				}
				if c.to > c.from {
					err = io.ErrUnexpectedEOF
				}
			}
			return wire.Answer{}, err
		}
	}
}

func (c *conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nc != nil {
		c.nc.Close()
		c.nc = nil
	}
}

// interrupt ends any wait on the connection, for a run cancelled early.
func (c *conn) interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.interrupted = true
	if c.nc != nil {
		c.nc.SetDeadline(aLongTimeAgo)
	}
}

var aLongTimeAgo = time.Unix(1, 0)
