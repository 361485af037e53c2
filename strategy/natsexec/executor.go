package natsexec

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
	"github.com/primetime-lab/primetime/internal/cpus"
	"github.com/primetime-lab/primetime/internal/worker"
	"github.com/primetime-lab/primetime/strategy"
)

// Name is the NATS executor's name in strategies' text forms: "nats:N",
// "nats" for one task in flight per CPU.
const Name = "nats"

func init() {
	strategy.RegisterExecutor(Name+":N", func(arg string) (strategy.Executor, error) {
		n := 0
		if arg != "" {
			var err error
			if n, err = strconv.Atoi(arg); err != nil || n < 1 || n > maxSize {
				return nil, fmt.Errorf("%s size %q is not a whole number from 1 to %d", Name, arg, maxSize)
			}
		}
		return New(n, Conn{}), nil
	})
}

// Timing of tasks and workers, as strategy.Processes has it: how long a
// worker may take to stop a cancelled task before the request gives up on
// it, and to exit once told to.
const (
	cancelGrace = time.Second
	closeGrace  = 2 * time.Second
	// workerStartTimeout bounds the wait for a new worker process, besides
	// its connection to the NATS server.
	workerStartTimeout = 3 * time.Second
)

// maxSize bounds the tasks in flight of a text form, as package strategy
// bounds its own sizes.
const maxSize = 1 << 16

// New returns the executor that sends each task to the workers of a NATS
// queue group and waits for its answer: the process pool of
// strategy.Processes, with its workers anywhere the NATS server that conn
// names reaches. Workers are programs that serve [Workers] with the same
// conn's server and prefix: the command's "primetime worker", or a program
// of one's own that registers its tasks. Its text form is "nats:N"; the
// connection is not part of it (see [With]). New panics if n < 0.
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
// once with [ErrUnreachable], those in flight included; the executor and
// the workers reconnect by themselves, and requests are served again.
func New(n int, conn Conn) strategy.Executor {
	if n < 0 {
		panic("natsexec: New needs a non-negative number of tasks in flight")
	}
	return natsExec{n: n, conn: conn}
}

// ErrWorkerLost is wrapped by the error of a request whose worker went
// quiet during its task: it died, or its messages were lost.
var ErrWorkerLost = errors.New("worker lost")

// ErrUnreachable is wrapped by the error of a request that a NATS executor
// could not send, or whose answer it could not wait for, because its
// connection to the NATS server was lost. The executor logs the loss once;
// the server does not log each request it fails.
var ErrUnreachable error = unreachable{}

type unreachable struct{}

func (unreachable) Error() string { return "NATS server unreachable" }
func (unreachable) Unwrap() error { return worker.ErrLogged }

// With returns s with its NATS executor, if it has one, reaching its
// workers as conn says; any other strategy is returned as it is. It is how
// a text form ("loop+nats:2") meets its server.
func With(s strategy.Strategy, conn Conn) strategy.Strategy {
	if e := strategy.Describe(s).Executor; e.Name == Name {
		return strategy.Offload(s, New(e.Size, conn))
	}
	return s
}

type natsExec struct {
	n    int
	conn Conn
}

func (e natsExec) String() string {
	if e.n == 0 {
		return Name
	}
	return Name + ":" + strconv.Itoa(e.n)
}

func (e natsExec) size() int { return cpus.Or(e.n) }

// Start connects to the NATS server and asks the workers for their
// handshake. It ignores the server's lock, as strategy.Processes does.
func (e natsExec) Start(env strategy.Env) (strategy.Runner, error) {
	url := e.conn.url()
	p := &natsPool{
		conn:    e.conn,
		url:     url,
		link:    natsLink{lost: make(chan struct{})},
		log:     env.Log(),
		calls:   map[uint64]*natsCall{},
		free:    make(chan struct{}, e.size()),
		runners: newRunners(e.size()),
		remote:  env.Remote("nats"),
	}
	nc, err := e.conn.connect("primetime executor",
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { p.link.lose(p, err) }),
		nats.ReconnectHandler(func(*nats.Conn) { p.link.regain(p) }))
	if err != nil {
		return nil, fmt.Errorf("natsexec: %w", err)
	}
	p.nc, p.inbox = nc, nc.NewInbox()
	for range cap(p.free) {
		p.free <- struct{}{}
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
	conn Conn
	url  string
	link natsLink
	log  *slog.Logger
	// closing is set once the executor closes its own connection.
	closing atomic.Bool
	inbox   string
	sub     *nats.Subscription
	subWG   sync.WaitGroup // the subscription's delivery goroutine
	runners *runners       // submitted tasks
	free    chan struct{}
	next    atomic.Uint64

	mu    sync.Mutex
	calls map[uint64]*natsCall

	remote *strategy.Remote // Python mode and the timeline
}

// A natsCall is a run waiting for its replies: deliver hands it those
// signed with its key, heartbeats (and the NATS server's no-responders
// status) on replies, which may drop some when full, and answers and
// failures on final, which a flood of heartbeats or of forgeries cannot
// crowd out.
type natsCall struct {
	key            taskKey
	replies, final chan *nats.Msg
}

func (p *natsPool) start(task primetime.Task) error {
	sub, err := p.nc.Subscribe(p.inbox+".*", p.deliver)
	if err != nil {
		return fmt.Errorf("natsexec: subscribing on %s: %w", p.url, err)
	}
	p.sub = sub
	p.subWG.Add(1)
	sub.SetClosedHandler(func(string) { p.subWG.Done() })
	m, err := p.nc.Request(p.conn.workersSubject(), nil, natsConnectTimeout)
	switch {
	case errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout):
		return fmt.Errorf("natsexec: no worker answers on %s%s: start some there with \"primetime worker -nats %s\", or a program that serves natsexec.Workers", p.url, p.conn.forPool(), p.url)
	case err != nil:
		return fmt.Errorf("natsexec: asking the workers on %s for their tasks: %w", p.url, err)
	}
	tasks, err := worker.ParseHello(m.Data)
	if err != nil {
		return fmt.Errorf("natsexec: what answers on %s is not a worker of this version of primetime: %w", p.url, err)
	}
	if task != nil && !tasks[task.Name()] {
		return fmt.Errorf("natsexec: task %q is not registered in the workers on %s: register it with primetime.Register in an init function of the workers' program", task.Name(), p.url)
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
	if len(m.Data) != 0 || m.Header.Get("Status") != "503" {
		data, signed := openReply(m.Data, c.key)
		if !signed || len(data) == 0 {
			return // not from who took the task: forged, or stray
		}
		m.Data = data
		if data[0] != replyBeat {
			to = c.final
		}
	}
	select {
	case to <- m:
	default: // a call holds a few unread; more are beats, or duplicates
	}
}

// Submit runs the task on a goroutine of its own, which Stop waits for.
func (p *natsPool) Submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	p.runners.run(func() { done(p.call(ctx, t, payload)) })
}

// call sends the task to a worker and waits for its answer.
func (p *natsPool) call(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error) {
	err := p.remote.Wait(ctx, payload, func() error {
		select {
		case <-p.free:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err != nil {
		return nil, err
	}
	defer func() { p.free <- struct{}{} }()
	lost, err := p.link.current(p.url)
	if err != nil {
		return nil, err
	}
	name := t.Name()
	run, err := worker.RunMessage(name, payload)
	if err != nil {
		return nil, err
	}
	id := p.next.Add(1)
	reply := p.inbox + "." + strconv.FormatUint(id, 10)
	key := newTaskKey()
	body := taskMessage(key, run)
	c := &natsCall{key: key, replies: make(chan *nats.Msg, 4), final: make(chan *nats.Msg, 4)}
	p.mu.Lock()
	p.calls[id] = c
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.calls, id)
		p.mu.Unlock()
	}()
	return p.remote.Call(name, payload, func() ([]byte, strategy.RemoteWorker, error) {
		msg := &nats.Msg{Subject: p.conn.tasksSubject(), Reply: reply, Data: body}
		if err := p.nc.PublishMsg(msg); err != nil {
			return nil, strategy.RemoteWorker{}, fmt.Errorf("sending the task to %s: %w", p.url, err)
		}
		r, err := p.wait(ctx, c, msg, lost)
		ran := strategy.RemoteWorker{Pid: r.pid, Host: r.host}
		if err != nil {
			return nil, ran, err
		}
		if r.kind == replyAnswer {
			return r.body, ran, nil
		}
		re, err := worker.ParseFailure(r.body)
		if err != nil {
			return nil, ran, fmt.Errorf("%s broke the protocol: %w", natsWorker{r.host, r.pid}, err)
		}
		if re.Code == worker.CodeCanceled && ctx.Err() != nil {
			return nil, ran, ctx.Err()
		}
		return nil, ran, re
	})
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
			return natsReply{pid: from.pid, host: from.host}, fmt.Errorf("%w: the connection to the NATS server at %s was lost during the task", ErrUnreachable, p.url)
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

func (p *natsPool) Stop() {
	p.runners.stop()
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
		return nil, fmt.Errorf("%w: the connection to the NATS server at %s was lost %v ago (%v); requests fail until it is back", ErrUnreachable, url, time.Since(l.since).Round(time.Millisecond), l.why)
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
