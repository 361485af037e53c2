package natsexec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/cpus"
	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/internal/worker"
)

// Workers serves the tasks of this program to [New] executors: N
// worker processes, each connected to the NATS server that Conn names, in
// its pool, and running one task at a time, as a process pool's workers
// do. It is what "primetime worker" runs; a program of one's own that
// registers tasks (primetime.Register, in init functions) serves them with
// it, and must call primetime.MaybeWorker first thing in main, since the
// workers are this program started again. The workers get Conn, its
// credentials included, in their environment, which only this user's
// processes read, never on a command line.
type Workers struct {
	// Conn names the NATS server, the credentials and the pool.
	Conn Conn
	// N is how many worker processes to run; 0 means one per CPU.
	N int
	// Ready, if not nil, is called once every worker has connected and
	// joined the queue group, with their pids.
	Ready func(pids []int)
	// Log receives a line for each worker that ends unexpectedly and is
	// started again, and the workers' own stderr; nil means os.Stderr.
	Log io.Writer
}

// Serve starts the workers and serves until ctx ends, then stops them and
// waits for them. A worker that dies is started again, a second later if
// it could not start at once. Serve returns an error if the workers cannot
// start (no NATS server at URL), and nil once ctx has ended.
func (w Workers) Serve(ctx context.Context) error {
	if err := w.Conn.Check(); err != nil {
		return fmt.Errorf("natsexec: %w", err)
	}
	conn := w.Conn
	n := cpus.Or(w.N)
	var logw io.Writer = os.Stderr
	if w.Log != nil {
		logw = reexec.SharedWriter(w.Log)
	}
	procs := make([]*reexec.Server, n)
	var errs []error
	var mu sync.Mutex
	var starting sync.WaitGroup
	for i := range procs {
		starting.Go(func() {
			p, err := startNATSWorker(conn, logw)
			mu.Lock()
			defer mu.Unlock()
			procs[i] = p
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	starting.Wait()
	if len(errs) > 0 {
		for _, p := range procs {
			if p != nil {
				p.Stop(closeGrace)
			}
		}
		return errs[0]
	}
	if w.Ready != nil {
		pids := make([]int, n)
		for i, p := range procs {
			pids[i] = p.Pid()
		}
		w.Ready(pids)
	}
	var running sync.WaitGroup
	for _, p := range procs {
		running.Go(func() { superviseNATSWorker(ctx, p, conn, logw) })
	}
	running.Wait()
	return nil
}

// superviseNATSWorker keeps a worker process running until ctx ends, then
// stops it.
func superviseNATSWorker(ctx context.Context, p *reexec.Server, conn Conn, logw io.Writer) {
	for {
		select {
		case <-ctx.Done():
			p.Stop(closeGrace)
			return
		case <-p.Done():
		}
		fmt.Fprintf(logw, "primetime: NATS worker %d ended (%v); starting another\n", p.Pid(), p.Err())
		for {
			np, err := startNATSWorker(conn, logw)
			if err == nil {
				p = np
				break
			}
			fmt.Fprintf(logw, "primetime: starting a NATS worker: %v\n", err)
			if sleepCtx(ctx, time.Second) != nil {
				return
			}
		}
	}
}

// The child process of a NATS worker: its role, how its parent gives it the
// URL, and the line it writes once it serves, or if it cannot.
const (
	roleNATSWorker = "nats-worker"
	envNATSConn    = "PRIMETIME_NATS"
	natsReadyLine  = "primetime-nats-worker/1"
	natsErrorLine  = "primetime-nats-worker-error"
)

func init() { reexec.RegisterRole(roleNATSWorker, natsWorkerMain) }

// startNATSWorker starts a worker process and waits until it serves.
func startNATSWorker(conn Conn, logw io.Writer) (*reexec.Server, error) {
	js, err := json.Marshal(conn)
	if err != nil {
		return nil, err
	}
	cmd, err := reexec.Command("", nil, roleNATSWorker, logw, envNATSConn+"="+string(js), "GOMAXPROCS=1")
	if err != nil {
		return nil, err
	}
	p, err := reexec.StartServer(cmd, natsReadyLine, natsConnectTimeout+workerStartTimeout)
	var se *reexec.StartError
	switch {
	case errors.As(err, &se) && strings.HasPrefix(se.Line, natsErrorLine+" "):
		return nil, errors.New(strings.TrimSpace(strings.TrimPrefix(se.Line, natsErrorLine+" ")))
	case errors.As(err, &se):
		return nil, fmt.Errorf("NATS worker process did not start (%v): %s", se, se.Advice())
	case err != nil:
		return nil, fmt.Errorf("starting a NATS worker process: %w", err)
	}
	return p, nil
}

// natsWorkerMain is a worker process's entry point, reached through
// primetime.MaybeWorker: it serves until its stdin closes.
func natsWorkerMain() error {
	var conn Conn
	if err := json.Unmarshal([]byte(os.Getenv(envNATSConn)), &conn); err != nil {
		return fmt.Errorf("natsexec: a NATS worker's %s: %w", envNATSConn, err)
	}
	os.Unsetenv(envNATSConn) // what it runs need not see the credentials
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	reported := false
	err := serveNATSWorker(ctx, conn, func(err error) {
		if err != nil {
			_, werr := fmt.Printf("%s %v\n", natsErrorLine, err)
			reported = werr == nil
			return
		}
		fmt.Printf("%s %d\n", natsReadyLine, os.Getpid())
	})
	if reported {
		return nil // the parent says why
	}
	return err
}

// serveNATSWorker is one worker: it runs the tasks that come from the
// queue group one at a time until ctx ends. ready is called once, with nil
// once it serves, or with the error that keeps it from serving.
func serveNATSWorker(ctx context.Context, conn Conn, ready func(error)) error {
	host, _ := os.Hostname()
	nc, err := conn.connect(fmt.Sprintf("primetime worker %d on %s", os.Getpid(), host))
	if err != nil {
		ready(err)
		return err
	}
	w := &natsServer{nc: nc, conn: conn, me: natsReply{pid: os.Getpid(), host: host}, in: make(chan *nats.Msg, 64), tasks: newRunners(1), running: map[string]context.CancelFunc{}}
	defer nc.Close()
	defer w.tasks.stop() // their answers go out before the connection closes
	hello := worker.HelloMessage(primetime.Registered())
	_, err = nc.QueueSubscribe(conn.workersSubject(), conn.group(), func(m *nats.Msg) { m.Respond(hello) })
	if err == nil {
		_, err = nc.ChanSubscribe(conn.cancelSubject(), w.in)
	}
	if err == nil {
		err = w.join()
	}
	if err == nil {
		err = nc.Flush()
	}
	if err != nil {
		ready(err)
		return err
	}
	ready(nil)
	for {
		select {
		case <-ctx.Done():
			w.stop()
			// The NATS server has taken the leaving in once it answers
			// the flush: no task goes to this worker after it exits.
			nc.FlushTimeout(natsConnectTimeout)
			return nil
		case m := <-w.in:
			if m.Subject == conn.cancelSubject() {
				w.cancel(string(m.Data))
				continue
			}
			// A task ends by its cancellation or by stop, which
			// says why first.
			w.start(context.WithoutCancel(ctx), m)
		}
	}
}

// natsServer is a worker's state. The loop of serveNATSWorker reads the
// tasks and cancellations on one channel, in the order the NATS server
// sent them, so that a cancellation never overtakes its task.
type natsServer struct {
	nc    *nats.Conn
	conn  Conn
	me    natsReply // the worker's pid and host, for its replies
	in    chan *nats.Msg
	tasks *runners // one task at a time, on a goroutine kept for the next

	stopping atomic.Bool

	mu      sync.Mutex
	running map[string]context.CancelFunc // by reply subject
	sub     *nats.Subscription            // the last membership of the group
}

// join makes the worker a member of the queue group for one task, unless
// it is stopping.
func (w *natsServer) join() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopping.Load() {
		return nil
	}
	sub, err := w.nc.ChanQueueSubscribe(w.conn.tasksSubject(), w.conn.group(), w.in)
	if err != nil {
		return err
	}
	w.sub = sub
	return sub.AutoUnsubscribe(1)
}

// stop leaves the group and cancels the running task, whose request is
// then answered with an error that says the worker stopped.
func (w *natsServer) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopping.Store(true)
	if w.sub != nil {
		w.sub.Unsubscribe() // fails harmlessly if its one task came
	}
	for _, cancel := range w.running {
		cancel()
	}
}

func (w *natsServer) cancel(reply string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if cancel, ok := w.running[reply]; ok {
		cancel()
	}
}

// reply sends a reply about the run that answers to `to`, signed with its
// key.
func (w *natsServer) reply(to string, key []byte, kind byte, body []byte) {
	r := w.me
	r.kind, r.body = kind, body
	w.nc.Publish(to, signReply(key, r))
}

// start runs the task of m on a goroutine of its own, with heartbeats,
// and answers it once it has joined the group again.
func (w *natsServer) start(ctx context.Context, m *nats.Msg) {
	ctx, cancel := context.WithCancel(ctx)
	w.mu.Lock()
	w.running[m.Reply] = cancel
	w.mu.Unlock()
	w.tasks.run(func() {
		defer cancel()
		key, run := parseTask(m.Data)
		beat := w.beat(m.Reply, key)
		kind, body := replyAnswer, []byte(nil)
		name, payload, err := worker.ParseRunMessage(run)
		if err != nil {
			kind, body = replyFail, worker.FailureMessage(worker.CodeFailed, err.Error())
		} else if answer, failure, failed := worker.Outcome(ctx, name, payload, worker.Lookup(primetime.Lookup), primetime.ErrBadRequest); failed {
			kind, body = replyFail, failure
		} else {
			body = answer
		}
		if kind == replyFail && w.stopping.Load() && ctx.Err() != nil {
			body = worker.FailureMessage(worker.CodeFailed, natsWorker{w.me.host, w.me.pid}.String()+" stopped during the task")
		}
		beat.stop()
		w.mu.Lock()
		delete(w.running, m.Reply)
		w.mu.Unlock()
		if err := w.join(); err != nil {
			kind, body = replyFail, worker.FailureMessage(worker.CodeFailed, "the worker could not join the queue group again: "+err.Error())
		}
		w.reply(m.Reply, key, kind, body)
	})
}

// A beater sends a run's heartbeats, every natsBeat until stopped.
type beater struct {
	mu      sync.Mutex
	t       *time.Timer
	stopped bool
}

// beat starts the heartbeats of the run that answers to reply.
func (w *natsServer) beat(reply string, key []byte) *beater {
	b := &beater{}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.t = time.AfterFunc(natsBeat, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if !b.stopped {
			w.reply(reply, key, replyBeat, nil)
			b.t.Reset(natsBeat)
		}
	})
	return b
}

// stop stops the heartbeats: none is sent once it has returned.
func (b *beater) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stopped = true
	b.t.Stop()
}
