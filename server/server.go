// Package server serves a [primetime.Task] over TCP with a scheduling
// [strategy.Strategy].
//
// The zero [Server] answers the line protocol with the prime task under the
// PerConn strategy: the client sends a decimal n and "\n" ("\r\n" is
// accepted too), and the server answers the nth prime and "\n". A request
// the task refuses, or a task that fails, gets one line that starts with
// "ERR " and the connection stays usable; a line longer than the limit gets
// an ERR line and the connection is closed.
//
// Two more protocols let other clients drive it. ProtocolHTTP is HTTP/1.1
// with keep-alive (and HTTP/1.0), parsed and written by net/http: GET
// /?n=10 and GET /prime/10 answer "29" as text/plain; a request the task
// refuses gets 400 with the reason, an unknown path 404, another method
// 405, a request head over the limit 431, a body over 64 KiB 413, and a
// body of a transfer encoding (chunked) 501. Only a malformed, oversized or
// chunked request closes a keep-alive connection.
// ProtocolRecv is what the lecture's Python clients speak: the client sends
// the bare digits and reads once; each read the server gets is one
// request, answered with a line. It relies on one read per message, as the
// lecture's code did.
//
// A client that leaves has its work stopped. EOF, whether from a close or
// from a half-close (the server cannot tell the two apart), and a reset
// mean that the client has left, as net/http takes them. Once a request
// has run the watch delay (10 ms), the server looks at its connection, and
// a request whose client has left is cancelled: a task that calls
// primetime.Checkpoint stops, the request is answered with an error that
// says why ("ERR cancelled: the connection was closed before the answer;
// keep it open until the answer arrives", or 503 with the same reason over
// http), which a client that only shut its sending side still reads, and
// no further request of the connection starts. A request answered sooner
// is answered, whatever its client did meanwhile.
//
// Under the Loop strategies on Linux the server accepts as usual and hands
// each connection's socket over to the strategy's event loop, which does
// all of its I/O with the same protocols, limits and timeouts; answers
// wait in a connection's buffer while the client does not read, and past
// 64 KiB the loop stops reading that client until it does. A loop that runs
// a task itself reads no socket meanwhile, as asyncio's does; the task's
// checkpoints look at its own connection, so that a task whose client has
// left stops, and the loop goes back to the others.
//
// A Server's life cycle follows net/http's: [Server.Serve] or
// [Server.ListenAndServe] serves until [Server.Shutdown] (stop accepting,
// let the requests in flight finish, then close) or [Server.Close] (close
// everything now).
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/policy"
	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/internal/wire"
	"github.com/primetime-lab/primetime/internal/worker"
	"github.com/primetime-lab/primetime/strategy"
)

// ErrServerClosed is returned by [Server.Serve] and [Server.ListenAndServe]
// after a call to [Server.Shutdown] or [Server.Close].
var ErrServerClosed = errors.New("server: Server closed")

// Defaults of the Server's limits.
const (
	// DefaultAddr is the address ListenAndServe listens on for an empty Addr.
	DefaultAddr = "127.0.0.1:25000"
	// DefaultMaxLineBytes is the longest request line, not counting its
	// line ending.
	DefaultMaxLineBytes = wire.DefaultMaxLine
	// DefaultIdleTimeout is how long a connection may wait for its next
	// request before the server closes it.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultWriteTimeout is how long writing one answer may take before
	// the server gives up on the connection.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultMaxHeaderBytes is the largest HTTP request head: request
	// line and header fields.
	DefaultMaxHeaderBytes = wire.DefaultMaxHeader
)

// A Server serves a task with a strategy. Its exported fields configure it
// and must not change once it serves; the zero value of each is a sensible
// default, so the zero Server is ready to use.
type Server struct {
	// Addr is the TCP address ListenAndServe listens on; "" means
	// DefaultAddr. Serve ignores it.
	Addr string
	// Strategy schedules connections and tasks. Nil means
	// strategy.PerConn().
	Strategy strategy.Strategy
	// Task is what every request runs. Nil means primetime.Prime, whose
	// largest n is primetime.DefaultMaxN; primetime.NewPrimeTask makes a
	// prime task with another limit.
	Task primetime.Task
	// Protocol is the wire protocol: ProtocolLine (the default, also
	// ""), ProtocolHTTP or ProtocolRecv.
	Protocol Protocol
	// MaxLineBytes is the longest request line accepted, not counting its
	// line ending (for the recv protocol, the longest request). Zero means
	// DefaultMaxLineBytes.
	MaxLineBytes int
	// MaxHeaderBytes is the largest HTTP request head accepted; a larger
	// one gets 431 and the connection is closed. Zero means
	// DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// IdleTimeout is how long a connection may wait for its next request
	// to begin. Zero means DefaultIdleTimeout; a negative value means no
	// limit.
	IdleTimeout time.Duration
	// ReadTimeout is how long a request may take to arrive whole, from its
	// first byte, however slowly it trickles in (as net/http's
	// ReadTimeout): a connection whose request has not come whole in time
	// is closed. Zero means the idle timeout; a negative value means no
	// limit.
	ReadTimeout time.Duration
	// WriteTimeout is how long writing one answer may take. Zero means
	// DefaultWriteTimeout; a negative value means no limit.
	WriteTimeout time.Duration
	// RequestTimeout, if positive, bounds each request: a task still
	// running when it passes is cancelled (in a worker process too, which
	// is then free for the next task) and the request is answered with an
	// error that says it timed out. Zero means no limit.
	RequestTimeout time.Duration
	// MaxConns, if positive, is the most connections open at once. The
	// server stops accepting while that many are open, so further clients
	// wait in the kernel's accept queue, as they would for a busy server,
	// until one closes; they are not refused. Zero means no limit.
	MaxConns int
	// Logger receives the server's log: accept errors, panics of tasks.
	// Nil means slog.Default().
	Logger *slog.Logger
	// GIL, if positive, turns on Python mode: request handling and tasks
	// run under an emulated interpreter lock with this switch interval
	// (CPython's sys.setswitchinterval; its default is 5 ms), as a CPython
	// server with threads would. Connection goroutines, the loop and
	// goroutine-pool workers are the interpreter's threads; they release
	// the lock around network reads and writes and while they wait for an
	// executor, and tasks yield it at their checkpoints. Worker processes
	// are interpreters of their own. Zero means Go mode: no lock.
	GIL time.Duration
	// PythonCosts are the interpreter's costs Python mode charges; the
	// zero value means the defaults.
	PythonCosts PythonCosts
	// DebugAddr, if not empty, is a TCP address on which Serve also serves
	// DebugHandler: /debug/vars and /debug/pprof/. It is closed when Serve
	// returns. Give a loopback address, such as 127.0.0.1:6060, unless the
	// counters and profiles are meant for other machines. Empty means no
	// debug listener.
	DebugAddr string

	// Recorder, if not nil, records who runs when while the server
	// serves: Python mode's lock, the loop's turns, the executors'
	// workers and queues, each connection's requests (see NewRecorder).
	// WriteTrace writes what it has. Set it before Serve.
	Recorder *Recorder

	inShutdown atomic.Bool
	laneSeq    atomic.Int64 // numbers the connections' lanes
	stats      counters
	metrics    worker.Counts // the executor's
	buffers    sync.Pool     // *[]byte input buffers of goroutine conns, reused across connections

	mu        sync.Mutex
	listener  net.Listener
	serving   bool
	serveDone chan struct{} // closed when Serve's strategy has returned
	started   chan struct{} // closed when the strategy first accepts
	startOnce sync.Once
	done      chan struct{}           // closed when shutting down or closing
	conns     map[*session]*conn      // open connections; the event loop's have no *conn
	wake      chan struct{}           // tells the watchdog a request has started
	epoch     time.Time               // when Serve began: the clock's zero
	clock     atomic.Int64            // the watchdog's clock, ms since epoch
	watching  atomic.Bool             // the watchdog ticks
	slots     chan struct{}           // one per open connection, when MaxConns is set
	baseCtx   context.Context         // parent of every request's context
	cancel    context.CancelCauseFunc // ends baseCtx, with ErrServerClosed
	proto     Protocol
	pol       policy.Policy    // set by Serve, before any connection
	python    *gil.Interpreter // in Python mode
}

// Stats is a snapshot of a Server's counters.
type Stats struct {
	// Accepted counts the connections accepted since Serve began.
	Accepted uint64
	// Open counts the connections open now.
	Open int64
	// Requests counts the requests read. Each is answered with a result
	// or an error, or its answer is lost, so once no request is in flight,
	// Requests equals Answered plus Errors plus Lost.
	Requests uint64
	// Answered counts the requests answered with a result.
	Answered uint64
	// Errors counts the error answers: requests the task refused, tasks
	// that failed or panicked, request lines over the limit.
	Errors uint64
	// Lost counts the answers, of either kind, that could not be written:
	// the client had gone, or Close closed the connection first. An
	// answer is counted in Answered or Errors as it is written, and
	// moves here if the write fails.
	Lost uint64
}

type counters struct {
	accepted atomic.Uint64
	open     atomic.Int64
	ended    tally // the counts of the connections that have closed
}

// Stats returns the server's counters. It is safe to call while the server
// runs.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all tally
	s.stats.ended.addTo(&all)
	for ss := range s.conns {
		ss.own.addTo(&all)
	}
	return Stats{
		Accepted: s.stats.accepted.Load(),
		Open:     s.stats.open.Load(),
		Requests: all.requests.Load(),
		Answered: all.answered.Load(),
		Errors:   all.errors.Load(),
		Lost:     all.lost.Load(),
	}
}

// initLocked sets up the state the zero Server lacks.
func (s *Server) initLocked() {
	if s.done == nil {
		s.done = make(chan struct{})
		s.conns = make(map[*session]*conn)
		s.wake = make(chan struct{}, 1)
		if s.MaxConns > 0 {
			s.slots = make(chan struct{}, s.MaxConns)
		}
		s.baseCtx, s.cancel = context.WithCancelCause(context.Background())
		s.started = make(chan struct{})
	}
}

// Started returns a channel that is closed once Serve is ready for
// connections: its strategy has started its workers and waits for the
// first client. If Serve fails before, the channel stays open, so wait for
// Serve's error as well.
func (s *Server) Started() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	return s.started
}

// markStarted closes the channel of Started, once.
func (s *Server) markStarted() { s.startOnce.Do(func() { close(s.started) }) }

// ListenAndServe listens on the TCP address s.Addr (DefaultAddr if it is
// "") and calls Serve, as net/http's does. It always returns a non-nil
// error.
func (s *Server) ListenAndServe() error {
	if s.inShutdown.Load() {
		return ErrServerClosed
	}
	addr := s.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Serve serves the connections of l with the server's strategy until
// Shutdown or Close, and closes l. A Server serves one listener, once: a
// second call returns an error.
//
// Serve refuses to run in a worker process of a process pool: a program
// whose main lacks primetime.MaybeWorker must not start a second server.
//
// Serve always returns a non-nil error. After Shutdown or Close it returns
// ErrServerClosed, once every connection has closed and the strategy has
// stopped its workers. If l fails with an error that is not temporary,
// Serve closes every connection and returns that error. Temporary accept
// errors, such as a full file-descriptor table, are logged and retried after
// a delay that starts at 5 ms and doubles up to 1 s.
func (s *Server) Serve(l net.Listener) error {
	if reexec.IsWorker() {
		// A worker process whose main lacks the worker call must not
		// become a second server.
		l.Close()
		return errors.New("server: this process was started as a worker process, so it must not serve: call " + reexec.HookName + " first thing in main")
	}
	proto, err := ParseProtocol(string(s.Protocol))
	if err != nil {
		l.Close()
		return err
	}
	s.mu.Lock()
	s.initLocked()
	if s.inShutdown.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	if s.serving {
		s.mu.Unlock()
		return errors.New("server: Serve called more than once")
	}
	s.serving = true
	s.listener = l
	s.proto = proto
	s.pol = s.resolvePolicy()
	s.epoch = time.Now()
	serveDone := make(chan struct{})
	s.serveDone = serveDone
	s.mu.Unlock()
	defer close(serveDone)
	defer l.Close()
	watchDone := make(chan struct{})
	var watchdog sync.WaitGroup
	watchdog.Go(func() { s.watch(watchDone) })
	defer watchdog.Wait()
	defer close(watchDone)

	var python *gil.Interpreter
	if s.GIL > 0 {
		python = gil.NewInterpreter(s.GIL, s.PythonCosts.charged())
		s.mu.Lock()
		s.python = python
		s.mu.Unlock()
	}
	if addr := s.debugAddr(); addr != "" {
		stop, err := s.serveDebug(addr)
		if err != nil {
			return err
		}
		defer stop()
	}
	strat := s.strategy()
	err = strat.Serve(&listener{s: s, l: l}, strategy.Env{Python: python, Task: s.task(), Metrics: &s.metrics, Recorder: s.Recorder, Logger: s.logger()})
	if s.inShutdown.Load() {
		return ErrServerClosed
	}
	if err == nil {
		err = errors.New("server: strategy " + strat.String() + " returned without an error")
	}
	return err
}

// ListenerAddr returns the address the server listens on, or nil before
// Serve: the port the system chose for an Addr that ends in ":0".
func (s *Server) ListenerAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return nil
	}
	return s.listener.Addr()
}

// shutdownPollMax caps the interval at which Shutdown looks for idle
// connections to close and checks whether serving has ended.
const shutdownPollMax = 500 * time.Millisecond

// Shutdown stops the server gracefully: it closes the listener, so new
// connections are refused; closes every connection that is waiting for a
// request; lets every request in flight finish and be answered; and returns
// nil once the last connection has closed and Serve is done.
//
// If ctx ends first, Shutdown cancels the contexts of the tasks still
// running, so that they stop and their requests are answered with an error,
// and returns ctx's error. Once Shutdown has been called, Serve and
// ListenAndServe return ErrServerClosed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.inShutdown.Store(true)
	s.mu.Lock()
	s.initLocked()
	err := s.closeListenerLocked()
	serveDone := s.serveDone
	s.mu.Unlock()
	if serveDone == nil {
		return err
	}

	interval := time.Millisecond
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		s.wakeIdleConns()
		select {
		case <-serveDone:
			return err
		case <-ctx.Done():
			s.cancel(ErrServerClosed)
			return ctx.Err()
		case <-timer.C:
			interval = min(2*interval, shutdownPollMax)
			timer.Reset(interval)
		}
	}
}

// Close closes the listener and every connection now, and cancels the
// contexts of the tasks in flight. Serve returns ErrServerClosed once the
// tasks have stopped. Close returns the error from closing the listener.
func (s *Server) Close() error {
	s.inShutdown.Store(true)
	return s.closeAll()
}

// closeAll closes the listener and every connection and cancels every task.
func (s *Server) closeAll() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	err := s.closeListenerLocked()
	for ss := range s.conns {
		if ss.nc != nil {
			ss.nc.Close()
		}
	}
	// The event loop closes its connections once their contexts end.
	s.cancel(ErrServerClosed)
	return err
}

// closeListenerLocked closes the listener and the done channel, once.
func (s *Server) closeListenerLocked() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	close(s.done)
	if s.listener == nil {
		return nil
	}
	return s.listener.Close()
}

// wakeIdleConns makes every connection that waits for a request give up
// waiting; it then sees the shutdown and closes.
func (s *Server) wakeIdleConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		if c != nil && c.mark.Load()&phaseMask <= reading {
			c.nc.SetReadDeadline(aLongTimeAgo)
		}
	}
}

// aLongTimeAgo is a deadline that has passed, to wake a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) strategy() strategy.Strategy {
	if s.Strategy != nil {
		return s.Strategy
	}
	return strategy.PerConn()
}

func (s *Server) task() primetime.Task {
	if s.Task != nil {
		return s.Task
	}
	return primetime.Prime
}

// buffer returns an input buffer of n bytes from the pool, as net/http
// reuses its readers: a server whose clients reconnect for every request
// otherwise allocates a buffer per connection. Every buffer of a server
// has the same size, its codecs' BufferSize.
func (s *Server) buffer(n int) *[]byte {
	if b, ok := s.buffers.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, n)
	return &b
}

// resolvePolicy returns the connection policy of the server's settings.
func (s *Server) resolvePolicy() policy.Policy {
	idle := policy.Limit(s.IdleTimeout, DefaultIdleTimeout)
	return policy.Policy{
		IdleTimeout:  idle,
		ReadTimeout:  policy.Limit(s.ReadTimeout, idle),
		WriteTimeout: policy.Limit(s.WriteTimeout, DefaultWriteTimeout),
	}
}
