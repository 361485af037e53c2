package reactor

import (
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/wire"
)

// Supported reports whether this system has the event loop.
const Supported = true

// Sizes and times of the loop.
const (
	// readSize is the loop's one read buffer; a connection keeps only
	// the bytes it has not decoded yet, in a buffer of its own.
	readSize = 64 << 10
	// highWater is how much unsent output a connection may hold before
	// the loop stops reading and decoding its requests until the client
	// reads (asyncio's pause_reading).
	highWater = 64 << 10
	// watchDelay is how long a request must have run before the client's
	// EOF counts as the client going away and cancels it; the goroutine
	// servers wait as long before they watch. A half-closed client's
	// quicker requests are answered.
	watchDelay = 10 * time.Millisecond
	// lingerTimeout and lingerBytes bound the draining of a connection
	// closed after an error answer, as the goroutine servers do.
	lingerTimeout = 500 * time.Millisecond
	lingerBytes   = 64 << 10
	// idleSlack is how far an idle deadline may fall short of its full
	// length before it is moved, so that a busy connection moves it once
	// a second rather than on every request.
	idleSlack = time.Second
)

// Serve runs the loop on the calling goroutine, locked to its OS thread,
// until l's AcceptConn fails and every connection has closed; it returns
// AcceptConn's error. th is the loop's interpreter thread in Python mode,
// or nil: the loop holds the lock except while it waits for events or is
// in a socket's system call, as CPython's selector and socket module
// release it, and spends requestCost on each request, as asyncio's
// machinery does.
func Serve(l Listener, x Executor, th *gil.Thread, requestCost time.Duration) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	lp, err := newLoop(l, x, th)
	if err != nil {
		return err
	}
	lp.requestCost = requestCost
	defer lp.release()
	var acceptor sync.WaitGroup
	acceptor.Go(func() {
		for {
			c, err := l.AcceptConn()
			if err != nil {
				lp.post(event{kind: acceptEnded, err: err})
				return
			}
			lp.post(event{kind: accepted, conn: c})
		}
	})
	// The loop returns only once the acceptor has ended.
	defer acceptor.Wait()
	stop := context.AfterFunc(l.Closed(), func() { lp.post(event{kind: closeAll}) })
	defer stop()
	th.Take()
	defer th.Drop()
	lp.run()
	return lp.acceptErr
}

// loop is the state of one event loop. Only the loop's goroutine touches
// it, except what mu guards.
type loop struct {
	l           Listener
	x           Executor
	th          *gil.Thread
	requestCost time.Duration // Python mode's charge per request
	idle        time.Duration
	write       time.Duration
	epfd        int
	wakefd      int
	now         time.Time

	conns    []*conn // by descriptor
	open     int     // connections open
	inflight int     // tasks handed to the executor and not yet back
	timers   timerHeap
	rbuf     []byte // the one read buffer
	wbuf     []byte // answers are formatted here, then written
	events   []unix.EpollEvent

	accepting bool  // the acceptor has not ended
	acceptErr error // what ended it
	draining  bool  // shutting down: close connections once idle
	closing   bool  // closing: close everything now

	mu          sync.Mutex
	posted      []event // from other goroutines, for the loop
	taken       []event // the batch being handled
	wakePending bool    // a wake-up is written and not yet read
	released    bool    // the descriptors are closed: post must not write
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

func newLoop(l Listener, x Executor, th *gil.Thread) (*loop, error) {
	idle, write := l.Limits()
	lp := &loop{l: l, x: x, th: th, idle: idle, write: write, epfd: -1, wakefd: -1, accepting: true,
		rbuf: make([]byte, readSize), events: make([]unix.EpollEvent, 256)}
	var err error
	if lp.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("reactor: epoll_create1: %w", err)
	}
	if lp.wakefd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		lp.release()
		return nil, fmt.Errorf("reactor: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(lp.wakefd)}
	if err := unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_ADD, lp.wakefd, &ev); err != nil {
		lp.release()
		return nil, fmt.Errorf("reactor: adding the wake-up descriptor: %w", err)
	}
	return lp, nil
}

// release closes the loop's own descriptors. Under mu, so that a late
// post cannot write to a closed descriptor whose number a new socket or
// pipe has taken.
func (lp *loop) release() {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	lp.released = true
	for _, fd := range []int{lp.wakefd, lp.epfd} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// post hands ev to the loop from another goroutine, and wakes the loop
// unless a wake-up is already pending, as asyncio's call_soon_threadsafe
// writes to its self-pipe.
// A post after the loop has ended is dropped: nothing waits for it.
func (lp *loop) post(ev event) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	if lp.released {
		return
	}
	lp.posted = append(lp.posted, ev)
	if !lp.wakePending {
		lp.wakePending = true
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		unix.Write(lp.wakefd, one[:])
	}
}

// run handles events until the acceptor has ended and every connection
// and task is done.
func (lp *loop) run() {
	for lp.accepting || lp.open > 0 || lp.inflight > 0 {
		timeout := -1
		if len(lp.timers) > 0 {
			wait := time.Until(lp.timers[0].timerAt)
			timeout = int(min(max((wait+time.Millisecond-1)/time.Millisecond, 0), time.Hour/time.Millisecond))
		}
		// Python's loop releases the lock only while it waits in
		// select(), as here around epoll_wait.
		lp.th.Drop()
		n, err := unix.EpollWait(lp.epfd, lp.events, timeout)
		lp.th.Take()
		if err != nil && !errors.Is(err, unix.EINTR) {
			panic("reactor: epoll_wait: " + err.Error())
		}
		lp.now = time.Now()
		for _, ev := range lp.events[:max(n, 0)] {
			fd := int(ev.Fd)
			if fd == lp.wakefd {
				lp.takePosted()
				continue
			}
			if c := lp.conns[fd]; c != nil {
				lp.ready(c, ev.Events)
			}
		}
		lp.fireTimers()
	}
}

// takePosted handles what other goroutines have posted.
func (lp *loop) takePosted() {
	var buf [8]byte
	lp.th.Drop()
	unix.Read(lp.wakefd, buf[:])
	lp.th.Take()
	// Cleared with the take: a post that comes after it wakes the loop
	// again.
	lp.mu.Lock()
	lp.wakePending = false
	lp.taken, lp.posted = lp.posted, lp.taken[:0]
	lp.mu.Unlock()
	// A task cancelled by the server's Close may have answered before
	// the Close itself was posted: its connection closes all the same.
	lp.closeIfServerClosed()
	for i := range lp.taken {
		ev := lp.taken[i]
		lp.taken[i] = event{}
		switch ev.kind {
		case accepted:
			lp.add(ev.conn)
		case acceptEnded:
			lp.accepting, lp.acceptErr = false, ev.err
			lp.drain()
		case closeAll:
			lp.closeIfServerClosed()
		case answered:
			lp.inflight--
			lp.asyncioStep()
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
	if lp.closing || lp.draining {
		unix.Close(fd)
		sc.Closed()
		return
	}
	c := &conn{fd: fd, sc: sc, codec: sc.Codec(), heapIdx: -1}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		lp.l.Logger().Error("event loop could not watch a connection; closing it", "err", err)
		unix.Close(fd)
		sc.Closed()
		return
	}
	c.interest = unix.EPOLLIN
	for fd >= len(lp.conns) {
		lp.conns = append(lp.conns, make([]*conn, len(lp.conns)+64)...)
	}
	lp.conns[fd] = c
	lp.open++
	lp.waitForRequest(c)
}

// drain closes every connection that waits for a request, and has the
// others close once their request is answered.
func (lp *loop) drain() {
	lp.draining = true
	for _, c := range lp.conns {
		if c != nil && !c.inFlight && !c.lingering {
			c.closeAfterFlush = true
			lp.closeIfDone(c)
			if !c.closed {
				lp.watch(c)
			}
		}
	}
}

// ready handles the readiness of a connection's socket.
func (lp *loop) ready(c *conn, events uint32) {
	if events&unix.EPOLLOUT != 0 {
		lp.flush(c)
	}
	if !c.closed && events&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		lp.read(c)
	}
}

// read reads what the client sent and handles it.
func (lp *loop) read(c *conn) {
	lp.th.Drop()
	n, err := unix.Read(c.fd, lp.rbuf)
	lp.th.Take()
	switch {
	case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
		return
	case err != nil:
		// A reset: the client is gone, and so is its request.
		lp.close(c)
		return
	case c.lingering:
		c.lingered += n
		if n == 0 || c.lingered >= lingerBytes {
			lp.close(c)
		}
		return
	case n == 0:
		c.eof = true
		if c.inFlight {
			c.watchAt = c.started.Add(watchDelay)
			lp.arm(c, c.watchAt)
		}
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
// unconsumed input, as long as no request is in flight, and keeps the
// rest.
func (lp *loop) process(c *conn, data []byte) {
	for !c.inFlight && !c.closed && !c.closeAfterFlush && len(c.out) < highWater {
		n, d := c.codec.Decode(data, c.eof)
		data = data[n:]
		if d.Kind == wire.NeedMore {
			if c.eof {
				c.closeAfterFlush = true
			}
			break
		}
		if d.Kind == wire.Refused {
			lp.send(c, c.sc.AppendRefusal(lp.wbuf[:0], d))
			if d.Close || c.codec.CloseAfter() {
				c.closeAfterFlush, c.linger = true, d.Close
			}
			continue
		}
		lp.start(c, d.Payload)
	}
	lp.keep(c, data)
	if !c.closed {
		lp.closeIfDone(c)
	}
	if !c.closed {
		lp.watch(c)
	}
}

// keep keeps data, the connection's undecoded input, in its own buffer;
// an empty buffer is given back.
func (lp *loop) keep(c *conn, data []byte) {
	switch {
	case c.closed || len(data) == 0:
		c.in = nil
	case len(c.in) > 0 && &data[0] == &c.in[len(c.in)-len(data)]:
		c.in = c.in[:copy(c.in, data)]
	default:
		c.in = append(make([]byte, 0, len(data)), data...)
	}
}

// start starts a request: the loop runs its task now, or hands it to the
// executor and goes on.
func (lp *loop) start(c *conn, payload []byte) {
	ctx, task := c.sc.Start()
	c.inFlight, c.started = true, lp.now
	lp.asyncioStep()
	if lp.x.Run != nil {
		answer, err := lp.x.Run(gil.WithThread(ctx, lp.th), task, payload)
		lp.now = time.Now()
		lp.answer(c, answer, err)
		lp.closeIfServerClosed()
		return
	}
	// The task outlives this read: it gets a copy of its payload.
	c.payload = append(c.payload[:0], payload...)
	if c.done == nil {
		c.done = func(answer []byte, err error) {
			lp.post(event{kind: answered, c: c, answer: answer, err: err})
		}
	}
	lp.inflight++
	lp.x.Submit(ctx, task, c.payload, c.done)
}

// finish answers a request whose task the executor has run, then goes on
// with the connection's next request.
func (lp *loop) finish(c *conn, answer []byte, err error) {
	lp.answer(c, answer, err)
	if !c.closed {
		lp.process(c, c.in)
	}
}

// asyncioStep charges, in Python mode, what one step of a request costs
// asyncio: a turn of its loop, whose select releases the lock and must take
// it back, and the machinery's CPU with the lock held. A request takes
// asyncio a step when it is read, and one more when an executor's answer
// comes back.
func (lp *loop) asyncioStep() {
	if lp.th == nil {
		return
	}
	lp.th.Drop()
	lp.th.Take()
	lp.th.Spend(lp.requestCost)
}

// answer answers the request in flight.
func (lp *loop) answer(c *conn, answer []byte, err error) {
	c.inFlight = false
	c.watchAt = time.Time{}
	// Counted even when the client has gone, so that every request the
	// server read is answered or failed in its figures.
	out := c.sc.AppendAnswer(lp.wbuf[:0], answer, err)
	lp.wbuf = out[:0]
	if c.closed {
		return
	}
	lp.send(c, out)
	if c.closed {
		return
	}
	if c.codec.CloseAfter() || lp.draining {
		c.closeAfterFlush = true
	}
	lp.waitForRequest(c)
}

// waitForRequest starts the connection's idle deadline, unless a request
// came recently enough that the one set then is close enough.
func (lp *loop) waitForRequest(c *conn) {
	if lp.idle <= 0 {
		return
	}
	at := lp.now.Add(lp.idle)
	if c.idleAt.IsZero() || at.Sub(c.idleAt) >= min(lp.idle/8, idleSlack) {
		c.idleAt = at
		lp.arm(c, at)
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
		return
	}
	c.out = append(c.out, b[n:]...)
	if lp.write > 0 {
		c.writeAt = lp.now.Add(lp.write)
		lp.arm(c, c.writeAt)
	}
	lp.watch(c)
}

// writeSome writes what the socket takes of b without blocking.
func (lp *loop) writeSome(fd int, b []byte) (int, error) {
	lp.th.Drop()
	defer lp.th.Take()
	for {
		n, err := unix.Write(fd, b)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return 0, nil
		}
		return max(n, 0), err
	}
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
	c.out, c.writeAt = nil, time.Time{}
	lp.process(c, c.in)
}

// closeIfDone closes a connection that is to close once its output is out,
// or starts its lingering close after an error answer.
func (lp *loop) closeIfDone(c *conn) {
	if !c.closeAfterFlush || c.inFlight || len(c.out) > 0 || c.lingering {
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
	c.lingering = true
	c.lingerAt = lp.now.Add(lingerTimeout)
	lp.arm(c, c.lingerAt)
}

// watch sets the events the loop waits for on the connection: input while
// it can take more, output while some waits.
func (lp *loop) watch(c *conn) {
	var want uint32
	if c.lingering || (!c.eof && !c.closeAfterFlush && len(c.out) < highWater && !(c.inFlight && len(c.in) > 0)) {
		want = unix.EPOLLIN
	}
	if len(c.out) > 0 {
		want |= unix.EPOLLOUT
	}
	if want == c.interest {
		return
	}
	ev := unix.EpollEvent{Events: want, Fd: int32(c.fd)}
	if err := unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
		lp.close(c)
		return
	}
	c.interest = want
}

// close closes the connection now, cancelling its request in flight.
func (lp *loop) close(c *conn) {
	if c.closed {
		return
	}
	c.closed = true
	unix.EpollCtl(lp.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	unix.Close(c.fd)
	lp.conns[c.fd] = nil
	lp.open--
	if c.heapIdx >= 0 {
		heap.Remove(&lp.timers, c.heapIdx)
	}
	c.in, c.out = nil, nil
	c.sc.Closed()
}

// arm makes sure the connection's timer fires by at.
func (lp *loop) arm(c *conn, at time.Time) {
	switch {
	case c.heapIdx < 0:
		c.timerAt = at
		heap.Push(&lp.timers, c)
	case at.Before(c.timerAt):
		c.timerAt = at
		heap.Fix(&lp.timers, c.heapIdx)
	}
}

// fireTimers handles every connection whose timer is due. Deadlines are
// moved lazily: a timer fires at the earliest deadline its connection had,
// and is set again for the next one still ahead.
func (lp *loop) fireTimers() {
	for len(lp.timers) > 0 && !lp.timers[0].timerAt.After(lp.now) {
		c := heap.Pop(&lp.timers).(*conn)
		now := lp.now
		due := func(t time.Time) bool { return !t.IsZero() && !t.After(now) }
		switch {
		case c.lingering && due(c.lingerAt):
			lp.close(c)
		case len(c.out) > 0 && due(c.writeAt):
			lp.close(c) // the client does not read its answers
		case !c.inFlight && len(c.out) == 0 && due(c.idleAt):
			lp.close(c) // idle, or trickling a request, too long
		case c.inFlight && c.eof && due(c.watchAt):
			c.watchAt = time.Time{}
			c.sc.Gone()
		}
		if c.closed {
			continue
		}
		var next time.Time
		for _, t := range []time.Time{c.lingerAt, c.writeAt, c.idleAt, c.watchAt} {
			if t.After(now) && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
		if !next.IsZero() {
			lp.arm(c, next)
		}
	}
}

// A conn is one connection's state in the loop.
type conn struct {
	fd    int
	sc    Conn
	codec wire.ServerCodec
	// in holds input not decoded yet, out output not written yet, and
	// payload the payload of a task handed to the executor. Empty
	// buffers are nil: an idle connection holds none.
	in, out, payload []byte
	interest         uint32 // the events epoll reports for it
	done             func([]byte, error)

	inFlight        bool      // a request is being handled
	started         time.Time // when it started
	eof             bool      // the client will send nothing more
	closeAfterFlush bool      // close once the output is out
	linger          bool      // and linger, after an error answer
	lingering       bool
	lingered        int // bytes read while lingering
	closed          bool

	// Deadlines: for the next request, the output, the lingering close,
	// and the client's EOF during a request.
	idleAt, writeAt, lingerAt, watchAt time.Time
	timerAt                            time.Time // when its timer fires
	heapIdx                            int       // its place in the timer heap, or -1
}

// timerHeap orders connections by when their timers fire.
type timerHeap []*conn

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].timerAt.Before(h[j].timerAt) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *timerHeap) Push(x any) {
	c := x.(*conn)
	c.heapIdx = len(*h)
	*h = append(*h, c)
}
func (h *timerHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	c.heapIdx = -1
	return c
}
