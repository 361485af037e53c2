package reactor

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/policy"
	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/internal/wire"
)

// Supported reports whether this system has the event loop.
const Supported = true

// Sizes of the loop; its times are the connection policy's.
const (
	// readSize is the loop's one read buffer; a connection keeps only
	// the bytes it has not decoded yet, in a buffer of its own.
	readSize = 64 << 10
	// highWater is how much unsent output a connection may hold before
	// the loop stops reading and decoding its requests until the client
	// reads (asyncio's pause_reading).
	highWater = 64 << 10
	// turnBudget is how many requests a connection may start in one turn
	// of the loop: the rest of what it has sent waits until the other
	// connections' events of the turn have been handled, so that a client
	// that pipelines a megabyte of requests cannot take a turn from the
	// others (as Tokio's cooperative budget, and asyncio's bounded reads,
	// keep one task or transport from starving the rest).
	turnBudget = 16
	// yieldEvery is how often the loop passes through Go's scheduler
	// (runtime.Gosched) before it polls. A goroutine that never does is
	// one running too long to the runtime's monitor, which then takes
	// its P back during its epoll waits and polls every 20µs from then
	// on (BENCHMARKS.md, "Go's monitor took the loops' Ps back").
	yieldEvery = time.Millisecond
)

// Serve runs one loop per entry of cfg.Threads, each on a goroutine of its
// own, until l's AcceptConn fails and every connection has closed; it
// returns AcceptConn's error. It accepts on the calling goroutine and hands
// each connection to the loop that has the fewest. In Python mode each loop
// is an interpreter thread: it holds the lock except while it waits for
// events or is in a socket's system call, as CPython's selector and socket
// module release it, and charges cfg.TurnCost for each step of a request,
// as asyncio's machinery costs.
//
// The acceptor does not wait in Go's network poller while the loops watch
// the listening socket: with a loop per P, each holding its P in
// epoll_wait, nothing polls the network but Go's monitor, every 10 ms, and
// a new connection would wait that long. It waits for a loop to tell it
// that a connection waits, and runs at once on that loop's P.
func Serve(l Listener, cfg Config) error {
	lps := make([]*loop, 0, len(cfg.Threads))
	for i, th := range cfg.Threads {
		name := "loop"
		if len(cfg.Threads) > 1 {
			name = fmt.Sprintf("loop %d", i+1)
		}
		lane := cfg.Recorder.Lane(name, "loop")
		th.SetLane(lane)
		lp, err := newLoop(l, cfg, th, lane)
		if err != nil {
			for _, made := range lps {
				made.release()
			}
			return err
		}
		lps = append(lps, lp)
	}
	nudge, err := watchListener(l, lps)
	if err != nil {
		for _, lp := range lps {
			lp.release()
		}
		return err
	}
	var loops sync.WaitGroup
	for _, lp := range lps {
		loops.Go(func() {
			defer lp.release()
			lp.th.Run(lp.run)
		})
	}
	postAll := func(ev event) {
		for _, lp := range lps {
			lp.waker.post(ev)
		}
	}
	stop := context.AfterFunc(l.Closed(), func() { postAll(event{kind: closeAll}) })
	defer stop()
	// The loops end only once the acceptor has.
	defer loops.Wait()
	for {
		if nudge != nil && !acceptable(l) {
			select {
			case <-nudge:
			case <-l.Waiting():
				nudge = nil // AcceptConn tells the rest
			}
			continue
		}
		c, err := l.AcceptConn()
		if err != nil {
			postAll(event{kind: acceptEnded})
			return err
		}
		lp := lps[0]
		for _, other := range lps[1:] {
			if other.assigned.Load() < lp.assigned.Load() {
				lp = other
			}
		}
		lp.assigned.Add(1)
		lp.waker.post(event{kind: accepted, conn: c})
	}
}

// watchListener has every loop watch l's listening socket, and returns the
// channel on which they tell the acceptor that a connection waits; nil,
// with no error, if l has no socket to watch or this kernel cannot watch
// it so: the acceptor then waits in AcceptConn.
func watchListener(l Listener, lps []*loop) (chan struct{}, error) {
	for i, lp := range lps {
		var err error
		if cerr := l.Control(func(fd int) { err = lp.poller.addListener(fd) }); cerr != nil {
			if errors.Is(cerr, errors.ErrUnsupported) {
				return nil, nil
			}
			return nil, fmt.Errorf("reactor: watching the listener: %w", cerr)
		}
		if err != nil {
			// Watched by some loops and not others, it would wake
			// only some: none watches it.
			for _, w := range lps[:i] {
				l.Control(func(fd int) { w.poller.remove(fd) })
			}
			l.Logger().Warn("the event loops cannot watch the listener; the acceptor waits in Go's network poller", "err", err)
			return nil, nil
		}
	}
	nudge := make(chan struct{}, 1)
	for _, lp := range lps {
		lp.nudge = nudge
	}
	return nudge, nil
}

// acceptable reports whether a connection waits on l's listening socket to be
// accepted, or l cannot tell: AcceptConn then says what there is.
func acceptable(l Listener) bool {
	ready := true
	l.Control(func(fd int) {
		fds := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds[:], 0)
		ready = err != nil || n > 0
	})
	return ready
}

// loop is the state of one event loop. Only the loop's goroutine touches
// it, but for assigned and its waker.
type loop struct {
	l      Listener
	submit func(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error))
	th     *gil.Thread
	// running is what the checkpoints of the tasks it runs itself do:
	// yield th, and look at current's socket, the connection whose task
	// runs on the loop now, if any.
	running gil.Running
	current *conn
	// checkpoints counts its tasks' checkpoints, of which every
	// policy.ClockEvery-th reads the time.
	checkpoints uint32
	turnCost    time.Duration // Python mode's charge per step of a request
	idle        time.Duration
	readT       time.Duration // how long a request may take to arrive whole
	write       time.Duration
	poller      poller
	waker       *waker
	nudge       chan<- struct{} // tells the acceptor a connection waits, if the loop watches the listener
	epoch       time.Time       // the loop clock's zero
	now         instant         // when the events in hand came
	lane        *timeline.Lane  // records its polls, busy spans and inline tasks, if not nil
	polled      instant         // when the loop last took the sockets' events
	yielded     instant         // when the loop last passed through Go's scheduler

	conns    []*conn // by descriptor
	again    []*conn // connections with requests past their budget, to go on with
	open     int     // connections open
	inflight int     // tasks handed to the executor and not yet back
	timers   timerHeap
	rbuf     []byte // the one read buffer
	wbuf     []byte // answers are formatted here, then written
	events   []unix.EpollEvent
	hangups  []unix.EpollEvent // sweepDeparted' own, as events may be in hand

	assigned atomic.Int64 // connections handed to it and not yet closed

	accepting bool // the acceptor has not ended
	draining  bool // shutting down: close connections once idle
	closing   bool // closing: close everything now
}

// eventKind says what another goroutine posted to the loop.
type eventKind uint8

const (
	accepted eventKind = iota
	acceptEnded
	closeAll
	answered
)

// An event is what another goroutine posts to the loop: a new connection,
// the acceptor's end, the server's Close, or a task's answer.
type event struct {
	kind   eventKind
	conn   Conn
	err    error
	c      *conn
	answer []byte
}

func newLoop(l Listener, cfg Config, th *gil.Thread, lane *timeline.Lane) (*loop, error) {
	pol := l.Policy()
	lp := &loop{l: l, submit: cfg.Submit, th: th, turnCost: cfg.TurnCost, idle: pol.IdleTimeout, readT: pol.ReadTimeout, write: pol.WriteTimeout, accepting: true, epoch: time.Now(),
		rbuf: make([]byte, readSize), events: make([]unix.EpollEvent, 256), hangups: make([]unix.EpollEvent, 256)}
	var err error
	if lp.poller, err = newPoller(); err != nil {
		return nil, err
	}
	if lp.waker, err = newWaker(lp.poller); err != nil {
		unix.Close(lp.poller.fd)
		return nil, err
	}
	lp.lane = lane
	lp.running = gil.Running{Thread: th, Watch: lp.watchCurrent, Lane: lp.lane}
	return lp, nil
}

// release closes the loop's own descriptors.
func (lp *loop) release() {
	lp.waker.release()
	unix.Close(lp.poller.fd)
}

// run handles events until the acceptor has ended and every connection
// and task is done. Python's loop releases the lock while it waits in
// select(), as here around epoll_wait.
func (lp *loop) run() {
	busy, handled := lp.lane.Now(), 0 // the busy span under way, and its events
	lp.now = lp.clock()
	for lp.accepting || lp.open > 0 || lp.inflight > 0 {
		// The time the events in hand came, or the last inline task
		// answered: a timer is due at most a turn's handling late.
		now := lp.now
		timeout := lp.timers.timeout(now)
		// Those past their budget go on once the others' events are in.
		pending := lp.again
		lp.again = nil
		if len(pending) > 0 {
			timeout = 0
		}
		if now >= lp.yielded.add(yieldEvery) {
			lp.yielded = now
			runtime.Gosched()
		}
		var n int
		lp.lane.Busy(busy, handled)
		polled := lp.lane.Now()
		lp.th.Syscall(func() {
			if timeout != 0 && lp.inflight > 0 {
				// The goroutines its tasks went to may be
				// runnable on this loop's P: before it sleeps,
				// it lets them run, so that an answer may be in
				// without a thread woken either way.
				if n = lp.poller.wait(lp.events, 0); n > 0 {
					return
				}
				lp.yielded = now
				runtime.Gosched()
			}
			n = lp.poller.wait(lp.events, timeout)
		})
		lp.lane.Span(timeline.Poll, polled, nil)
		busy, handled = lp.lane.Now(), n
		lp.now = lp.clock()
		lp.polled = lp.now
		for _, ev := range lp.events[:n] {
			fd := int(ev.Fd)
			if ev.Pad == listenerTag {
				lp.connectionWaits()
				continue
			}
			if fd == lp.waker.fd {
				lp.takePosted()
				continue
			}
			if c := lp.conns[fd]; c != nil {
				lp.ready(c, ev.Events)
			}
		}
		lp.fireTimers()
		lp.goOn(pending)
	}
}

// connectionWaits tells the acceptor that a connection waits to be
// accepted, and lets it run now, on this loop's P, which it gives back
// once it waits again.
func (lp *loop) connectionWaits() {
	if lp.nudge == nil {
		return
	}
	select {
	case lp.nudge <- struct{}{}:
	default: // told already
	}
	runtime.Gosched()
}

// goOn goes on with the connections that used their budget of requests in
// the turn before, each with a new budget.
func (lp *loop) goOn(pending []*conn) {
	for i, c := range pending {
		pending[i] = nil
		c.again = false
		if c.state != closed {
			lp.process(c, c.in)
		}
	}
	if lp.again == nil {
		lp.again = pending[:0] // the slice is reused
	}
}

// takePosted handles what other goroutines have posted.
func (lp *loop) takePosted() {
	lp.th.Syscall(lp.waker.read)
	taken := lp.waker.take()
	// A task cancelled by the server's Close may have answered before
	// the Close itself was posted: its connection closes all the same.
	lp.closeIfServerClosed()
	for i := range taken {
		ev := taken[i]
		taken[i] = event{}
		switch ev.kind {
		case accepted:
			lp.add(ev.conn)
		case acceptEnded:
			lp.accepting = false
			lp.drain()
		case closeAll:
			lp.closeIfServerClosed()
		case answered:
			lp.inflight--
			lp.th.LoopTurn(lp.turnCost)
			lp.finish(ev.c, ev.answer, ev.err)
		}
	}
}

// closeIfServerClosed closes every connection now if the server is
// closing.
func (lp *loop) closeIfServerClosed() {
	if lp.closing || lp.l.Closed().Err() == nil {
		return
	}
	lp.closing = true
	for _, c := range lp.conns {
		if c != nil {
			lp.close(c)
		}
	}
}

// add starts serving a new connection.
func (lp *loop) add(sc Conn) {
	fd := sc.Fd()
	if lp.closing {
		unix.Close(fd)
		lp.assigned.Add(-1)
		sc.Closed()
		return
	}
	c := &conn{fd: fd, sc: sc, codec: sc.Codec(), heapIdx: -1}
	c.done = func(answer []byte, err error) {
		if c.sub.Early(answer, err) {
			return
		}
		lp.waker.post(event{kind: answered, c: c, answer: answer, err: err})
	}
	if err := lp.poller.add(fd, c.wants()); err != nil {
		lp.l.Logger().Error("event loop could not watch a connection; closing it", "err", err)
		unix.Close(fd)
		lp.assigned.Add(-1)
		sc.Closed()
		return
	}
	c.interest = c.wants()
	for fd >= len(lp.conns) {
		lp.conns = append(lp.conns, make([]*conn, len(lp.conns)+64)...)
	}
	lp.conns[fd] = c
	lp.open++
	lp.waitForRequest(c)
	if lp.draining {
		c.drainLeft = Pending(fd)
		if lp.drainIfIdle(c) {
			lp.closeIfDone(c)
		}
	}
}

// drain closes every connection that waits for a request and has sent
// none, and has the others close once their requests are answered: every
// request a client sent before the server stopped accepting is answered.
func (lp *loop) drain() {
	lp.draining = true
	for _, c := range lp.conns {
		if c == nil {
			continue
		}
		c.drainLeft = len(c.in) + Pending(c.fd)
		if lp.drainIfIdle(c) || c.state == closing {
			lp.closeIfDone(c)
			if c.state != closed {
				lp.watch(c)
			}
		}
	}
}

// drainIfIdle marks a connection closing if the loop drains and the
// connection waits for a request, having decoded all its client had sent
// when the draining began. It reports whether it did.
func (lp *loop) drainIfIdle(c *conn) bool {
	if !lp.draining || c.state != waiting || c.drainLeft > 0 {
		return false
	}
	c.state = closing
	return true
}

// ready handles the readiness of a connection's socket.
func (lp *loop) ready(c *conn, events uint32) {
	if events&unix.EPOLLOUT != 0 {
		lp.flush(c)
	}
	switch {
	case c.state == closed:
	case events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR) != 0:
		lp.read(c)
	case events&unix.EPOLLRDHUP != 0:
		// Shut while the loop does not read it: during a request, with
		// the next one already in hand.
		c.shut = true
		lp.departing(c)
		lp.watch(c)
	}
}

// departing starts the watch delay of a request whose client has shut its
// side: the request is cancelled once it has run that long.
func (lp *loop) departing(c *conn) {
	if c.state == running && c.watchAt == 0 {
		c.watchAt = c.started.add(policy.WatchDelay)
		lp.timers.arm(c, c.watchAt)
	}
}

// read reads what the client sent and handles it.
func (lp *loop) read(c *conn) {
	var n int
	var err error
	lp.th.Syscall(func() { n, err = unix.Read(c.fd, lp.rbuf) })
	switch {
	case err != nil && (errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR)):
		return
	case err != nil:
		// A reset: the client is gone, and so is its request.
		lp.close(c)
		return
	case c.state == lingering:
		c.lingered += n
		if n == 0 || c.lingered >= policy.LingerBytes {
			lp.close(c)
		}
		return
	case n == 0:
		c.eof = true
		lp.departing(c)
		lp.process(c, c.in)
		return
	}
	data := lp.rbuf[:n]
	if len(c.in) > 0 {
		c.in = append(c.in, data...)
		data = c.in
	}
	lp.process(c, data)
}

// process decodes and handles the requests in data, the connection's
// unconsumed input, as long as it decodes, and keeps the rest.
func (lp *loop) process(c *conn, data []byte) {
	for started := 0; c.decodes(); {
		if started == turnBudget {
			if !c.again {
				c.again = true
				lp.again = append(lp.again, c)
			}
			break
		}
		n, d := c.codec.Decode(data, c.eof)
		if lp.draining && n > 0 {
			if n > c.drainLeft {
				c.state = closing // sent after the draining began
				break
			}
			c.drainLeft -= n
		}
		data = data[n:]
		if d.Kind == wire.NeedMore {
			if c.eof {
				c.state = closing
			}
			break
		}
		if d.Kind == wire.Refused {
			lp.send(c, c.sc.AppendRefusal(lp.wbuf[:0], d))
			if c.state != closed && (d.Close || c.codec.CloseAfter()) {
				c.state, c.linger = closing, d.Close
			}
			continue
		}
		if lp.now >= lp.polled.add(policy.WatchDelay) {
			// Tasks the loop ran have kept it from its sockets: close
			// those reset meanwhile before starting another.
			lp.sweepDeparted()
			if c.state == closed {
				break
			}
		}
		lp.start(c, d.Payload)
		started++
	}
	lp.keep(c, data)
	if c.state == waiting && len(c.in) > 0 && c.readAt == 0 {
		// A request has begun to arrive: from now on the read timeout
		// bounds it, not the idle timeout.
		c.idleAt = 0
		if lp.readT > 0 {
			c.readAt = lp.now.add(lp.readT)
			lp.timers.arm(c, c.readAt)
		}
	}
	lp.drainIfIdle(c)
	if c.state != closed {
		lp.closeIfDone(c)
	}
	if c.state != closed {
		lp.watch(c)
	}
}

// keep keeps data, the connection's undecoded input, in its own buffer;
// an empty buffer is given back.
func (lp *loop) keep(c *conn, data []byte) {
	switch {
	case c.state == closed || len(data) == 0:
		c.in = nil
	case len(c.in) > 0 && &data[0] == &c.in[len(c.in)-len(data)]:
		c.in = c.in[:copy(c.in, data)]
	default:
		c.in = append(make([]byte, 0, len(data)), data...)
	}
}

// start starts a request: it hands the task to the executor, which runs
// it now, on the loop, and answers before Submit returns (the inline
// executor), or runs it elsewhere while the loop goes on.
func (lp *loop) start(c *conn, payload []byte) {
	ctx, task := c.sc.Start(payload)
	c.state, c.started, c.readAt = running, lp.now, 0
	lp.th.LoopTurn(lp.turnCost)
	// The task may outlive this read: it gets a copy of its payload.
	c.payload = append(c.payload[:0], payload...)
	if ctx != c.ctxFor {
		c.ctxFor, c.runCtx = ctx, gil.WithRunning(ctx, &lp.running)
	}
	c.nextWatch = c.started.add(policy.WatchDelay)
	if c.eof || c.shut {
		// Its client has left already: it sent its last request and
		// shut its side.
		lp.departing(c)
	}
	lp.th.Serving(payload)
	c.sub.Start()
	lp.inflight++
	lp.current = c
	lp.submit(c.runCtx, task, c.payload, c.done)
	lp.current = nil
	if answer, err, early := c.sub.Returned(); early {
		lp.inflight--
		lp.now = lp.clock()
		if err != nil {
			// A task cancelled by the server's Close may answer before
			// Submit returns: its connection closes first, as in
			// takePosted. A task that answered was not cancelled.
			lp.closeIfServerClosed()
		}
		lp.answer(c, answer, err)
	}
}

// finish answers a request whose task the executor has run, then goes on
// with the connection's next request.
func (lp *loop) finish(c *conn, answer []byte, err error) {
	lp.answer(c, answer, err)
	if c.state != closed {
		lp.process(c, c.in)
	}
}

// answer answers the request in flight.
func (lp *loop) answer(c *conn, answer []byte, err error) {
	c.watchAt = 0
	// Counted even when the client has gone, so that every request the
	// server read is answered or failed in its figures.
	out := c.sc.AppendAnswer(lp.wbuf[:0], answer, err)
	lp.wbuf = out[:0]
	if c.state == closed {
		c.sc.Lost()
		return
	}
	c.state = waiting
	lp.send(c, out)
	if c.state == closed {
		return
	}
	if c.codec.CloseAfter() || c.left {
		c.state = closing
	}
	lp.waitForRequest(c)
	lp.drainIfIdle(c)
}

// waitForRequest starts the connection's idle deadline, unless a request
// came recently enough that the one set then is close enough.
func (lp *loop) waitForRequest(c *conn) {
	if lp.idle <= 0 {
		return
	}
	at := lp.now.add(lp.idle)
	if c.idleAt == 0 || time.Duration(at-c.idleAt) >= policy.Slack(lp.idle) {
		c.idleAt = at
		lp.timers.arm(c, at)
	}
}

// send writes b, or what of it the socket takes now; the rest waits in the
// connection's output buffer until the socket is writable.
func (lp *loop) send(c *conn, b []byte) {
	if len(c.out) > 0 {
		c.out = append(c.out, b...)
		return
	}
	n, err := lp.writeSome(c.fd, b)
	if err != nil {
		lp.close(c)
		return
	}
	if n == len(b) {
		c.sc.Written()
		return
	}
	c.out = append(c.out, b[n:]...)
	if lp.write > 0 {
		c.writeAt = lp.now.add(lp.write)
		lp.timers.arm(c, c.writeAt)
	}
	lp.watch(c)
}

// writeSome writes what the socket takes of b without blocking.
func (lp *loop) writeSome(fd int, b []byte) (n int, err error) {
	lp.th.Syscall(func() {
		for {
			n, err = unix.Write(fd, b)
			switch {
			case err == nil:
			case errors.Is(err, unix.EINTR):
				continue
			case errors.Is(err, unix.EAGAIN):
				n, err = 0, nil
			}
			n = max(n, 0)
			return
		}
	})
	return n, err
}

// flush writes the connection's pending output, now that it is writable,
// and goes on with its requests once it is all out.
func (lp *loop) flush(c *conn) {
	n, err := lp.writeSome(c.fd, c.out)
	if err != nil {
		lp.close(c)
		return
	}
	if n < len(c.out) {
		c.out = c.out[:copy(c.out, c.out[n:])]
		return
	}
	c.out, c.writeAt = nil, 0
	c.sc.Written()
	lp.process(c, c.in)
}

// closeIfDone closes a closing connection once its output is out, or
// starts its lingering close then, after an error answer.
func (lp *loop) closeIfDone(c *conn) {
	if c.state != closing || len(c.out) > 0 {
		return
	}
	if !c.linger || c.eof {
		lp.close(c)
		return
	}
	// Close the write side, so that the client reads the error answer
	// and then EOF, and read what it still sends for a while: closing a
	// socket with unread input sends a reset, which can destroy the
	// answer before the client reads it.
	unix.Shutdown(c.fd, unix.SHUT_WR)
	c.state = lingering
	c.lingerAt = lp.now.add(policy.LingerTimeout)
	lp.timers.arm(c, c.lingerAt)
}

// watch sets the events the loop waits for on the connection.
func (lp *loop) watch(c *conn) {
	want := c.wants()
	if want == c.interest {
		return
	}
	if err := lp.poller.modify(c.fd, want); err != nil {
		lp.close(c)
		return
	}
	c.interest = want
}

// close closes the connection now, cancelling its request in flight.
func (lp *loop) close(c *conn) {
	if c.state == closed {
		return
	}
	c.state = closed
	lp.poller.remove(c.fd)
	unix.Close(c.fd)
	lp.conns[c.fd] = nil
	lp.open--
	lp.assigned.Add(-1)
	lp.timers.remove(c)
	c.in, c.out = nil, nil
	c.sc.Closed()
}

// gone cancels the connection's request in flight: its client has left.
func (lp *loop) gone(c *conn) {
	c.left = true
	c.sc.Gone()
}

// watchCurrent is a checkpoint of a task that the loop runs itself, which
// reads no socket meanwhile: once the task has run the watch delay, and
// no more often than that, it looks at the task's connection, and cancels
// the task if its client has shut its side or reset it, so that the loop
// goes back to the others and Shutdown is never held by work nobody waits
// for. Only the loop's goroutine calls it: a task handed to another
// goroutine runs under a Running of its own.
func (lp *loop) watchCurrent() {
	c := lp.current
	if c == nil || c.left {
		return
	}
	if lp.checkpoints++; lp.checkpoints%policy.ClockEvery != 0 {
		return
	}
	now := lp.clock()
	if now < c.nextWatch {
		return
	}
	c.nextWatch = now.add(policy.WatchDelay)
	if PeerLeft(c.fd) {
		c.eof = true
		lp.gone(c)
	}
}

// sweepDeparted closes every connection whose client has left, by a reset
// or a FIN, without waiting: a loop that has run tasks itself for a while
// would otherwise start a task for each such client in turn, each running
// until its checkpoint looks (the watch delay), so that 500 clients that
// send a request and leave would hold the loop for 500 watch delays. A
// connection whose request runs on the executor has it cancelled instead,
// once the request has run the watch delay. epoll is level-triggered, so
// the other events the sweep takes come again, and a second wait takes
// ready connections the first did not.
func (lp *loop) sweepDeparted() {
	for range lp.open/len(lp.hangups) + 1 {
		var n int
		lp.th.Syscall(func() { n = lp.poller.wait(lp.hangups, 0) })
		for _, ev := range lp.hangups[:n] {
			if ev.Pad == listenerTag {
				lp.connectionWaits()
				continue
			}
			c := lp.conns[int(ev.Fd)]
			switch {
			case c == nil || c == lp.current:
			case ev.Events&(unix.EPOLLERR|unix.EPOLLHUP) != 0:
				lp.close(c)
			case ev.Events&unix.EPOLLRDHUP == 0:
			case c.state == running:
				c.shut = true
				lp.departing(c)
				lp.watch(c)
			default:
				lp.close(c)
			}
		}
		if n < len(lp.hangups) {
			break
		}
	}
	lp.polled = lp.clock()
}

// fireTimers handles every connection whose timer is due, and sets each
// timer again for the connection's next deadline.
func (lp *loop) fireTimers() {
	now := lp.now
	due := func(t instant) bool { return t != 0 && t <= now }
	for c := lp.timers.due(now); c != nil; c = lp.timers.due(now) {
		switch {
		case c.state == lingering && due(c.lingerAt):
			lp.close(c)
		case len(c.out) > 0 && due(c.writeAt):
			lp.close(c) // the client does not read its answers
		case c.state == waiting && len(c.out) == 0 && due(c.idleAt):
			lp.close(c) // idle too long
		case c.state == waiting && due(c.readAt):
			lp.close(c) // trickling a request too long
		case c.state == running && (c.eof || c.shut) && due(c.watchAt):
			c.watchAt = 0
			lp.gone(c)
		}
		if c.state == closed {
			continue
		}
		if next := c.nextDeadline(now); next != 0 {
			lp.timers.arm(c, next)
		}
	}
}
