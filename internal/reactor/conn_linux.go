package reactor

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/primetime-lab/primetime/internal/wire"
)

// A connState is where a connection is in its life on the loop.
type connState uint8

const (
	// waiting: no request in flight; the loop reads the connection and
	// decodes what comes.
	waiting connState = iota
	// running: a request is in flight, its task on the loop or on the
	// executor; the loop reads on only to notice the client going.
	running
	// closing: it takes no more requests, and closes once its output is
	// out, or starts lingering then, if linger is set.
	closing
	// lingering: it sent an error answer and shut its write side; the
	// loop reads what the client still sends, for a while, then closes it.
	lingering
	// closed: the socket is closed and the connection forgotten.
	closed
)

// A conn is one connection's state in the loop.
type conn struct {
	fd    int
	sc    Conn
	codec wire.ServerCodec
	state connState
	// eof says that the client has shut its side: it sends nothing more,
	// and the loop has read all it sent. shut says that the client has
	// shut its side, as epoll told while the loop did not read (input
	// may be left unread). left says that it has left, as far as the loop
	// is concerned: its request in flight was cancelled, and no other
	// starts.
	eof, shut, left bool
	// again says that it waits in the loop's list of connections to go
	// on with, past its budget of requests.
	again bool
	// linger says that closing lingers once the output is out, after an
	// error answer.
	linger bool
	// in holds input not decoded yet, out output not written yet, and
	// payload the payload of a task handed to the executor. Empty
	// buffers are nil: an idle connection holds none.
	in, out, payload []byte
	interest         uint32  // the events epoll reports for it
	started          instant // when the request in flight started
	lingered         int     // bytes read while lingering
	drainLeft        int     // while the loop drains: bytes sent before it began, still to decode
	sub              Submission
	done             func([]byte, error) // the done of its tasks, made once
	// runCtx is the context its tasks run under: ctxFor, the request's,
	// with the loop's Running, made again only when ctxFor changes.
	ctxFor, runCtx context.Context
	nextWatch      instant // when an inline task's checkpoint may next look at the socket

	// Deadlines: for the next request to begin, for one that has begun to
	// arrive whole, the output, the lingering close, and the client's EOF
	// during a request.
	idleAt, readAt, writeAt, lingerAt, watchAt instant
	timerAt                                    instant // when its timer fires
	heapIdx                                    int     // its place in the timer heap, or -1
}

// decodes reports whether the loop decodes the connection's next request
// now: none is in flight, and the client reads its answers.
func (c *conn) decodes() bool { return c.state == waiting && len(c.out) < highWater }

// wants returns the events the loop waits for on the connection: input
// while it can take more (during a request, only to notice the client
// going, until it pipelines), the client shutting its side while it has
// not (which a client that pipelined and left tells only so), output
// while some waits.
func (c *conn) wants() uint32 {
	var want uint32
	switch c.state {
	case lingering:
		want = unix.EPOLLIN
	case waiting, running:
		if !c.eof && len(c.out) < highWater && (c.state == waiting || len(c.in) == 0) {
			want = unix.EPOLLIN
		}
		if !c.eof && !c.shut {
			want |= unix.EPOLLRDHUP
		}
	}
	if len(c.out) > 0 {
		want |= unix.EPOLLOUT
	}
	return want
}

// nextDeadline returns the earliest of the connection's deadlines still
// ahead of now, or 0.
func (c *conn) nextDeadline(now instant) instant {
	var next instant
	for _, t := range [...]instant{c.lingerAt, c.writeAt, c.idleAt, c.readAt, c.watchAt} {
		if t > now && (next == 0 || t < next) {
			next = t
		}
	}
	return next
}
