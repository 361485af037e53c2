package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/internal/wire"
	"github.com/primetime-lab/primetime/internal/worker"
	"github.com/primetime-lab/primetime/strategy"
)

// session is the server's side of one connection, whatever does its I/O (a
// goroutine of its own, or the event loop): its protocol's codec, the
// contexts of its requests, and the server's accounting of them.
type session struct {
	s      *Server
	codec  wire.ServerCodec
	remote net.Addr

	ctx context.Context // done when the connection closes, or its client leaves
	// taskCtx is ctx, or ctx with what the tasks' checkpoints do.
	taskCtx context.Context
	cancel  context.CancelCauseFunc
	// reqCancel ends the request's own context, when it has one.
	reqCancel context.CancelFunc
	// left says that the client has left: no request of its starts.
	left atomic.Bool

	// nc is the connection for a goroutine's I/O, which Close and
	// Shutdown reach through it; nil for the event loop's connections.
	nc net.Conn

	// counts are the connection's requests and answers: its own tally,
	// added to the server's when it ends, and the server's from then on,
	// for an answer the event loop counts after the connection closed. A
	// tally of its own is written by one core, where one server-wide one
	// would pass a cache line between cores on every request. Only the
	// connection's goroutine, or loop, and Stats, under the server's
	// mutex, use it.
	counts *tally
	own    tally
	// unwritten holds the answers counted and not yet written, in order:
	// true for an error answer. One whose write fails moves to lost.
	unwritten []bool

	// lane records the connection's requests, if the server records a
	// timeline: from arrived until the answer, of the payload kept.
	lane    *timeline.Lane
	arrived int64
	payload []byte
}

// A tally counts requests, answers and error answers, and the answers of
// either kind that could not be written.
type tally struct{ requests, answered, errors, lost atomic.Uint64 }

// addTo adds t's counts to total.
func (t *tally) addTo(total *tally) {
	total.requests.Add(t.requests.Load())
	total.answered.Add(t.answered.Load())
	total.errors.Add(t.errors.Load())
	total.lost.Add(t.lost.Load())
}

func (ss *session) init(s *Server, remote net.Addr) {
	ss.s, ss.codec, ss.remote = s, s.newCodec(), remote
	ss.counts = &ss.own
	ss.ctx, ss.cancel = context.WithCancelCause(s.baseCtx)
	ss.taskCtx = ss.ctx
	if s.Recorder != nil {
		ss.lane = s.Recorder.Lane(fmt.Sprintf("conn %d", s.laneSeq.Add(1)), "connection")
	}
}

// TimelineLane returns the lane of the connection's events, or nil: in
// Python mode a strategy records the connection's interpreter thread
// there too.
func (ss *session) TimelineLane() *timeline.Lane { return ss.lane }

// request counts a request just decoded and returns it.
func (ss *session) request(payload []byte) strategy.Request {
	ss.counts.requests.Add(1)
	if ss.lane != nil {
		ss.arrived = ss.lane.Arrive(payload)
		ss.payload = append(ss.payload[:0], payload...)
	}
	// The request's context is the connection's: a client that goes away
	// ends both, and sharing it costs no allocation per request. A request
	// timeout needs a context of its own.
	ctx := ss.taskCtx
	if d := ss.s.RequestTimeout; d > 0 {
		ctx, ss.reqCancel = context.WithTimeout(ctx, d)
	}
	return strategy.Request{Context: ctx, Task: ss.s.task(), Payload: payload}
}

// appendRefusal counts a request that never reached a task and appends its
// error answer.
func (ss *session) appendRefusal(dst []byte, d wire.Decoded) []byte {
	ss.counts.requests.Add(1)
	ss.counts.errors.Add(1)
	ss.unwritten = append(ss.unwritten, true)
	return ss.codec.AppendError(dst, d.Status, d.Msg)
}

// written says that every answer counted so far has been written.
func (ss *session) written() { ss.unwritten = ss.unwritten[:0] }

// unwrittenLost says that the answers counted and not written never will
// be: the connection failed or closed first. They count as lost, not as
// answered.
func (ss *session) unwrittenLost() {
	for _, isErr := range ss.unwritten {
		if isErr {
			ss.counts.errors.Add(^uint64(0))
		} else {
			ss.counts.answered.Add(^uint64(0))
		}
		ss.counts.lost.Add(1)
	}
	ss.unwritten = ss.unwritten[:0]
}

// appendAnswer counts the answer to the request in flight and appends it.
// Answers are counted before they are written, so that a client that has
// read its answer finds it counted; one that is never written is then
// counted as lost (see unwrittenLost).
func (ss *session) appendAnswer(dst, answer []byte, err error) []byte {
	if ss.lane != nil {
		ss.lane.Span(timeline.Request, ss.arrived, ss.payload)
	}
	if ss.reqCancel != nil {
		ss.reqCancel()
		ss.reqCancel = nil
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("request timed out after %v: %w", ss.s.RequestTimeout, err)
		}
	}
	if err == nil {
		var out []byte
		if out, err = ss.codec.AppendAnswer(dst, answer); err == nil {
			ss.counts.answered.Add(1)
			ss.unwritten = append(ss.unwritten, false)
			return out
		}
	}
	ss.logTaskError(err)
	ss.counts.errors.Add(1)
	ss.unwritten = append(ss.unwritten, true)
	// A failed or panicking task is the server's fault.
	status, msg := http.StatusInternalServerError, err.Error()
	switch {
	case errors.Is(err, primetime.ErrBadRequest):
		status = http.StatusBadRequest
	case errors.Is(err, context.Canceled):
		status, msg = http.StatusServiceUnavailable, "cancelled: "+whyCancelled(context.Cause(ss.ctx))
	case errors.Is(err, context.DeadlineExceeded):
		status = http.StatusServiceUnavailable
	}
	return ss.codec.AppendError(dst, status, msg)
}

func (ss *session) logTaskError(err error) {
	var p *strategy.PanicError
	switch {
	case errors.As(err, &p):
		ss.s.logger().Error("task panicked", "task", p.Task, "panic", fmt.Sprint(p.Value),
			"remote", ss.remote.String(), "stack", string(p.Stack))
	case errors.Is(err, primetime.ErrBadRequest), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, worker.ErrLogged): // its executor has said it once
	default:
		ss.s.logger().Warn("task failed", "err", err, "remote", ss.remote.String())
	}
}

// The causes of a connection's end, which its cancelled requests answer
// with.
var (
	errClientLeft = errors.New("the connection was closed before the answer; keep it open until the answer arrives")
	errConnClosed = errors.New("the connection was closed")
)

// clientLeft ends the connection's requests: its client has gone, by a
// reset or a FIN (the server cannot tell a half-close from a close, and
// takes either as the client leaving, as net/http does).
func (ss *session) clientLeft() {
	ss.left.Store(true)
	ss.cancel(errClientLeft)
}

// whyCancelled says why a request was cancelled, from its connection's
// cause.
func whyCancelled(cause error) string {
	switch {
	case errors.Is(cause, errClientLeft):
		return errClientLeft.Error()
	case errors.Is(cause, ErrServerClosed):
		return "the server is closing"
	case cause == nil || errors.Is(cause, context.Canceled):
		return "the request's context was cancelled"
	}
	return cause.Error()
}

// end releases the session once its connection is closed: it cancels what
// is in flight and frees the connection's place.
func (ss *session) end() {
	ss.unwrittenLost()
	if ss.reqCancel != nil {
		ss.reqCancel()
	}
	ss.cancel(errConnClosed)
	ss.s.untrack(ss)
}
