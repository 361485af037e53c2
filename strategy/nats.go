package strategy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/internal/worker"
)

// NATS returns the executor that sends each task to the workers of a NATS
// queue group and waits for its answer: the process pool of [Processes],
// with its workers anywhere the NATS server that conn names reaches.
// Workers are programs that serve [NATSWorkers] with the same conn's
// server and prefix: the command's "primetime worker", or a program of
// one's own that registers its tasks. Its text form is "nats:N"; the
// connection is not part of it (see [WithNATS]). NATS panics if n < 0.
//
// At most n tasks are in flight at once, n = 0 meaning one per CPU of this
// machine; a worker runs one at a time and is offered a task only while it
// has none, so that no request waits behind a long task while a worker is
// free. Run at least n workers: with fewer, a task that finds them all busy
// is offered again every few milliseconds until one takes it. Start fails
// if no worker answers, or if the workers lack the server's task.
//
// A request whose context ends is cancelled on its worker. A worker that
// dies during a task, or says nothing for two seconds (it beats five times
// a second while a task runs), fails only that request; the others go on.
// While the connection to the NATS server is lost, every request fails at
// once with [ErrNATSUnreachable], those in flight included; the executor
// and the workers reconnect by themselves, and requests are served again.
func NATS(n int, conn NATSConn) Executor {
	if n < 0 {
		panic("strategy: NATS needs a non-negative number of tasks in flight")
	}
	return natsExec{n: n, conn: conn}
}

// ErrWorkerLost is wrapped by the error of a request whose [NATS] worker
// went quiet during its task: it died, or its messages were lost.
var ErrWorkerLost = errors.New("worker lost")

// ErrNATSUnreachable is wrapped by the error of a request that a [NATS]
// executor could not send, or whose answer it could not wait for, because
// its connection to the NATS server was lost.
var ErrNATSUnreachable = errors.New("NATS server unreachable")

// WithNATS returns s with its [NATS] executor, if it has one, reaching its
// workers as conn says; any other strategy is returned as it is. It is how
// a text form ("loop+nats:2") meets its server.
func WithNATS(s Strategy, conn NATSConn) Strategy {
	st, ok := s.(strategy)
	if !ok {
		return s
	}
	e, ok := st.exec.(natsExec)
	if !ok {
		return s
	}
	e.conn = conn
	st.exec = e
	return st
}

type natsExec struct {
	n    int
	conn NATSConn
}

func (e natsExec) String() string { return partForm(NATSName, e.n) }

func (e natsExec) describe() Part { return Part{Name: NATSName, Size: e.n} }

func (e natsExec) size() int { return perCPU(e.n) }

// Start connects to the NATS server and asks the workers for their
// handshake. It ignores the server's lock, as [Processes] does.
func (e natsExec) Start(env Env) (Runner, error) {
	url := e.conn.url()
	p := &natsPool{
		conn:  e.conn,
		url:   url,
		link:  natsLink{lost: make(chan struct{})},
		log:   env.logger(),
		calls: map[uint64]*natsCall{},
		free:  make(chan struct{}, e.size()),
		hop:   env.Python.charges().PoolHop,
		rec:   env.Recorder,
	}
	nc, err := e.conn.connect("primetime executor",
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { p.link.lose(p, err) }),
		nats.ReconnectHandler(func(*nats.Conn) { p.link.regain(p) }))
	if err != nil {
		return nil, fmt.Errorf("strategy: %w", err)
	}
	p.nc, p.inbox = nc, nc.NewInbox()
	for range cap(p.free) {
		p.free <- struct{}{}
	}
	if env.Recorder != nil {
		p.queueLane = env.Recorder.Lane("nats queue", "queue")
		p.lanes = map[natsWorker]*timeline.Lane{}
	}
	if lock := env.Python.lock(); lock != nil {
		p.feeder.th, p.manager.th = lock.NewThread(gil.Feeder), lock.NewThread(gil.Manager)
	}
	if err := p.start(env.Task); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// A natsWorker names a worker, from its replies.
type natsWorker struct {
	host string
	pid  int
}

func (w natsWorker) String() string {
	if w.pid == 0 {
		return "no worker"
	}
	return fmt.Sprintf("worker %d on %s", w.pid, w.host)
}

// natsPool is a started NATS executor: a connection, a subscription to its
// inbox that hands each reply to the call that waits for it, and a token
// per task it may have in flight.
type natsPool struct {
	nc   *nats.Conn
	conn NATSConn
	url  string
	link natsLink
	log  *slog.Logger
	// closing is set once the executor closes its own connection.
	closing atomic.Bool
	inbox   string
	sub     *nats.Subscription
	subWG   sync.WaitGroup // the subscription's delivery goroutine
	wg      sync.WaitGroup // submitted tasks
	free    chan struct{}
	next    atomic.Uint64

	mu    sync.Mutex
	calls map[uint64]*natsCall

	feeder, manager hopThread // Python mode, as the process pool's
	hop             time.Duration

	rec       *timeline.Recorder
	queueLane *timeline.Lane
	lanes     map[natsWorker]*timeline.Lane // under mu
	waiting   atomic.Int32
}

// A natsCall is a run waiting for its replies: deliver hands it those
// signed with its key, heartbeats (and the NATS server's no-responders
// status) on replies, which may drop some when full, and answers and
// failures on final, which a flood of heartbeats or of forgeries cannot
// crowd out.
type natsCall struct {
	key            string
	replies, final chan *nats.Msg
}

func (p *natsPool) start(task primetime.Task) error {
	sub, err := p.nc.Subscribe(p.inbox+".*", p.deliver)
	if err != nil {
		return fmt.Errorf("strategy: subscribing on %s: %w", p.url, err)
	}
	p.sub = sub
	p.subWG.Add(1)
	sub.SetClosedHandler(func(string) { p.subWG.Done() })
	m, err := p.nc.Request(p.conn.workersSubject(), nil, natsConnectTimeout)
	switch {
	case errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout):
		return fmt.Errorf("strategy: no worker answers on %s%s: start some there with \"primetime worker -nats %s\", or a program that serves strategy.NATSWorkers", p.url, p.conn.forPool(), p.url)
	case err != nil:
		return fmt.Errorf("strategy: asking the workers on %s for their tasks: %w", p.url, err)
	}
	tasks, err := worker.ParseHello(m.Data)
	if err != nil {
		return fmt.Errorf("strategy: what answers on %s is not a worker of this version of primetime: %w", p.url, err)
	}
	if task != nil && !tasks[task.Name()] {
		return fmt.Errorf("strategy: task %q is not registered in the workers on %s: register it with primetime.Register in an init function of the workers' program", task.Name(), p.url)
	}
	return nil
}

// deliver hands a reply to the call that waits for it; a reply for a call
// that has ended (a heartbeat sent as the answer was), and one not signed
// with the call's key, are dropped.
func (p *natsPool) deliver(m *nats.Msg) {
	id, err := strconv.ParseUint(m.Subject[len(p.inbox)+1:], 10, 64)
	if err != nil {
		return
	}
	p.mu.Lock()
	c := p.calls[id]
	p.mu.Unlock()
	if c == nil {
		return
	}
	to := c.replies
	switch {
	case len(m.Data) == 0 && m.Header.Get("Status") == "503":
	case !signedBy(m, c.key):
		return // not from who took the task: forged, or stray
	case m.Data[0] != replyBeat:
		to = c.final
	}
	select {
	case to <- m:
	default: // a call holds a few unread; more are beats, or duplicates
	}
}

// run runs the task as a thread waiting for a future does, as the process
// pool's run.
func (p *natsPool) run(ctx context.Context, t primetime.Task, payload []byte) (answer []byte, err error) {
	gil.FromContext(ctx).Syscall(func() { answer, err = p.call(ctx, t, payload) })
	return answer, err
}

// Submit runs the task on a goroutine of its own, which Stop waits for.
func (p *natsPool) Submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	p.wg.Go(func() { done(p.call(ctx, t, payload)) })
}

// acquire takes a token for a task in flight, waiting until ctx ends.
func (p *natsPool) acquire(ctx context.Context, payload []byte) error {
	if p.queueLane == nil {
		select {
		case <-p.free:
			return nil
		default:
		}
	}
	var waitLane *timeline.Lane
	var waitStart int64
	if p.queueLane != nil {
		waitLane = gil.LaneOf(ctx)
		waitStart = waitLane.Now()
		p.queueLane.Depth(int(p.waiting.Add(1)))
		defer func() {
			p.queueLane.Depth(int(p.waiting.Add(-1)))
			waitLane.Span(timeline.Queued, waitStart, payload)
		}()
	}
	select {
	case <-p.free:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// call sends the task to a worker and waits for its answer.
func (p *natsPool) call(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error) {
	if t == nil {
		return nil, ErrNoTask
	}
	if err := p.acquire(ctx, payload); err != nil {
		return nil, err
	}
	defer func() { p.free <- struct{}{} }()
	lost, err := p.link.current(p.url)
	if err != nil {
		return nil, err
	}
	name := t.Name()
	body, err := worker.RunMessage(name, payload)
	if err != nil {
		return nil, err
	}
	id := p.next.Add(1)
	reply := p.inbox + "." + strconv.FormatUint(id, 10)
	key := newTaskKey()
	c := &natsCall{key: key, replies: make(chan *nats.Msg, 4), final: make(chan *nats.Msg, 4)}
	p.mu.Lock()
	p.calls[id] = c
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.calls, id)
		p.mu.Unlock()
	}()

	p.feeder.spend(p.hop)
	var start int64
	if p.rec != nil {
		start = p.rec.Now()
	}
	msg := &nats.Msg{Subject: p.conn.tasksSubject(), Reply: reply, Data: body, Header: nats.Header{natsKeyHeader: []string{key}}}
	if err := p.nc.PublishMsg(msg); err != nil {
		return nil, fmt.Errorf("sending the task to %s: %w", p.url, err)
	}
	r, err := p.wait(ctx, c, msg, lost)
	if r.pid != 0 {
		p.laneOf(natsWorker{r.host, r.pid}).Span(timeline.Task, start, payload)
	}
	p.manager.spend(p.hop)
	if err != nil {
		return nil, err
	}
	if r.kind == replyAnswer {
		return r.body, nil
	}
	re, err := worker.ParseFailure(r.body)
	if err != nil {
		return nil, fmt.Errorf("%s broke the protocol: %w", natsWorker{r.host, r.pid}, err)
	}
	if re.Code == worker.CodeCanceled && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, localError(name, re)
}

// wait waits for the answer or the failure of the task that msg sent,
// from the replies that deliver took (signed with the task's key), from the
// worker that first sent one. A task that finds no worker free is sent
// again until one takes it, as long as some worker answers; a cancelled one
// is cancelled on its worker, which is given a second to stop it. Once
// lost is closed, the connection to the NATS server is gone, and so is the
// task's answer.
func (p *natsPool) wait(ctx context.Context, c *natsCall, msg *nats.Msg, lost <-chan struct{}) (natsReply, error) {
	quiet := time.NewTimer(natsLiveness)
	defer quiet.Stop()
	var from natsWorker
	var grace <-chan time.Time
	done := ctx.Done()
	retry := 50 * time.Microsecond
	for {
		var m *nats.Msg
		select {
		case m = <-c.final:
		case m = <-c.replies:
		case <-lost:
			return natsReply{pid: from.pid, host: from.host}, fmt.Errorf("%w: the connection to the NATS server at %s was lost during the task", ErrNATSUnreachable, p.url)
		case <-done:
			done = nil
			grace = time.After(cancelGrace)
			p.nc.Publish(p.conn.cancelSubject(), []byte(msg.Reply))
			continue
		case <-grace:
			return natsReply{pid: from.pid, host: from.host}, ctx.Err()
		case <-quiet.C:
			if ctx.Err() != nil {
				return natsReply{}, ctx.Err()
			}
			if from.pid == 0 {
				return natsReply{}, fmt.Errorf("%w: no word on %s for %v from a worker about the task: the one that took it exited or lost its connection, or none took it (run as many workers as tasks in flight)", ErrWorkerLost, p.url, natsLiveness)
			}
			return natsReply{}, fmt.Errorf("%w: %s said nothing for %v: it exited, or lost its connection", ErrWorkerLost, from, natsLiveness)
		}
		if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
			// No member in the group: every worker is busy, or
			// there is none. While some worker answers, send it
			// again shortly, until one takes it.
			if ctx.Err() != nil {
				return natsReply{}, ctx.Err()
			}
			if _, err := p.nc.Request(p.conn.workersSubject(), nil, natsConnectTimeout); err != nil && !p.link.rejoining() {
				return natsReply{}, fmt.Errorf("%w: no worker answers on %s any more (%v)", ErrWorkerLost, p.url, err)
			}
			quiet.Reset(natsLiveness)
			retry = min(2*retry, 10*time.Millisecond)
			if err := sleepCtx(ctx, retry); err != nil {
				return natsReply{}, err
			}
			if err := p.nc.PublishMsg(msg); err != nil {
				return natsReply{}, fmt.Errorf("sending the task to %s: %w", p.url, err)
			}
			continue
		}
		r, err := decodeReply(m.Data)
		if err != nil {
			return natsReply{}, fmt.Errorf("a worker on %s broke the protocol: %w", p.url, err)
		}
		if w := (natsWorker{r.host, r.pid}); from.pid == 0 {
			from = w
		} else if w != from {
			continue // only the worker that took it answers it
		}
		if r.kind == replyBeat {
			quiet.Reset(natsLiveness)
			continue
		}
		return r, nil
	}
}

// sleepCtx waits d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// laneOf returns the lane of the worker w, or nil if no timeline is
// recorded.
func (p *natsPool) laneOf(w natsWorker) *timeline.Lane {
	if p.rec == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.lanes[w]
	if !ok {
		l = p.rec.ProcessLane(fmt.Sprintf("NATS worker %d on %s", w.pid, w.host), "worker process", w.pid)
		p.lanes[w] = l
	}
	return l
}

func (p *natsPool) Stop() {
	p.wg.Wait()
	p.close()
}

// close closes the connection and waits for the subscription's delivery
// goroutine.
func (p *natsPool) close() {
	p.closing.Store(true) // what follows is no loss of the NATS server's
	p.nc.Close()
	if p.sub != nil {
		p.subWG.Wait()
	}
}

// natsLink follows the executor's connection to the NATS server: lost is
// closed when the connection is lost, and made anew once it is back.
type natsLink struct {
	mu       sync.Mutex
	lost     chan struct{}
	down     bool
	since    time.Time // when it was lost
	why      error
	regained time.Time // when it was last back
}

// rejoining reports whether the connection came back so lately that the
// workers, which reconnect too, may not all be back yet.
func (l *natsLink) rejoining() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.regained.IsZero() && time.Since(l.regained) < natsLiveness
}

// current returns the channel that is closed when the connection is lost,
// or the error of a request while it is.
func (l *natsLink) current(url string) (<-chan struct{}, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return nil, fmt.Errorf("%w: the connection to the NATS server at %s was lost %v ago (%v); requests fail until it is back", ErrNATSUnreachable, url, time.Since(l.since).Round(time.Millisecond), l.why)
	}
	return l.lost, nil
}

// lose marks the connection lost, failing the requests in flight.
func (l *natsLink) lose(p *natsPool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down || p.closing.Load() {
		return
	}
	if err == nil {
		err = errors.New("the server closed it")
	}
	l.down, l.since, l.why = true, time.Now(), err
	close(l.lost)
	p.log.Warn("the NATS server is unreachable; requests fail until it is back", "nats", p.url, "err", err)
}

// regain marks the connection back.
func (l *natsLink) regain(p *natsPool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.down {
		return
	}
	p.log.Info("the NATS server is back", "nats", p.url, "after", time.Since(l.since).Round(time.Millisecond))
	l.down, l.lost, l.regained = false, make(chan struct{}), time.Now()
}
