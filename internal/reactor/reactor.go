// Package reactor is the event loop of the Loop strategies: one goroutine
// owns every connection's non-blocking socket, buffers and timers, as
// asyncio's selector loop does. It reads, decodes,
// runs inline tasks or hands them to an executor, encodes and writes, and
// learns of the executor's answers through a wake-up descriptor. No
// goroutine serves a connection, so an idle connection costs little
// memory; one slow inline task stalls every connection of its loop. A
// server may run several loops, each with its share of the connections.
//
// It is built on epoll, on Linux only ([Supported]); elsewhere the Loop
// strategies keep a portable loop of their own. One idea a file: the
// poller and the waker, a connection and its states, the timers, the
// loops' life cycle.
package reactor

import (
	"context"
	"log/slog"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/policy"
	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/internal/wire"
)

// A Listener is a server's listener as the loop sees it: the server keeps
// accepting, limits and accounting; the loop does the I/O.
type Listener interface {
	// AcceptConn waits for the next connection and returns it, its socket
	// handed over to the loop. Once it returns an error, it returns one on
	// every later call: the server is shutting down, and the loop stops
	// accepting, closes its idle connections and finishes the others.
	AcceptConn() (Conn, error)
	// Closed is done when the server closes: the loop closes every
	// connection now.
	Closed() context.Context
	// Policy returns the connection policy: the limits every connection
	// keeps.
	Policy() policy.Policy
	// Logger receives what the loop has to say about a connection it
	// could not serve.
	Logger() *slog.Logger
	// Control calls f with the listening socket's descriptor, valid
	// during the call, or returns errors.ErrUnsupported without calling
	// f. The loops watch that socket and wake the acceptor when a
	// connection waits (see Serve); it leaves their pollers by itself
	// when the server closes it.
	Control(f func(fd int)) error
	// Waiting says that the acceptor waits for a connection, as it does
	// in AcceptConn, and returns a channel that is closed once the server
	// stops accepting, as Shutdown or Close begins.
	Waiting() <-chan struct{}
}

// A Conn is the server's side of one connection without its I/O.
type Conn interface {
	// Fd returns the connection's socket, in non-blocking mode. The loop
	// owns it from AcceptConn on, and closes it.
	Fd() int
	// Codec returns the connection's protocol codec.
	Codec() wire.ServerCodec
	// Start counts a request just decoded, of payload, and returns its
	// context and task.
	Start(payload []byte) (context.Context, primetime.Task)
	// AppendAnswer counts the answer to the request started last and
	// appends it to dst.
	AppendAnswer(dst, answer []byte, err error) []byte
	// AppendRefusal counts a request the codec refused and appends its
	// error answer to dst.
	AppendRefusal(dst []byte, d wire.Decoded) []byte
	// Written says that every answer appended so far has been written.
	Written()
	// Lost says that the answers appended and not yet written never will
	// be; Closed says it of those still unwritten when the socket closes.
	Lost()
	// Gone cancels the request in flight: its client has gone.
	Gone()
	// Closed is called once the loop has closed the socket: it cancels
	// what is in flight and frees the connection's place.
	Closed()
}

// Config is what the loops run their tasks with.
type Config struct {
	// Submit hands a task to the executor and returns; done is called
	// once with the answer, on any goroutine, perhaps before Submit
	// returns: the inline executor runs the task on the loop then, under
	// a context that carries the loop's interpreter thread.
	Submit func(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error))
	// Threads has an entry per loop: the loop's interpreter thread in
	// Python mode, nil in Go mode. There is at least one.
	Threads []*gil.Thread
	// TurnCost is what Python mode charges, with the lock held, for each
	// turn of asyncio's machinery: one when a request is read, one more
	// when an executor's answer comes back.
	TurnCost time.Duration
	// Recorder, if not nil, records each loop's polls, busy spans and the
	// tasks it runs itself, on a lane per loop.
	Recorder *timeline.Recorder
}
