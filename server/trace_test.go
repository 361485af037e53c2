package server_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
	"github.com/primetime-lab/primetime/strategy/natsexec"
)

// traced serves task with the strategy named by text and a recorder.
func traced(t *testing.T, text string, task primetime.Task, gil time.Duration) *testServer {
	t.Helper()
	return start(t, &server.Server{Strategy: parse(t, text), Task: task, GIL: gil, Recorder: server.NewRecorder(server.RecorderOptions{})})
}

// trace writes and reads back the server's trace, which must be valid.
func trace(t *testing.T, ts *testServer) *timeline.Trace {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, ts.WriteTrace(&b))
	tr, err := timeline.ReadTrace(&b)
	require.NoError(t, err)
	return tr
}

// find returns the events of cat and name (any name if empty).
func find(tr *timeline.Trace, cat, name string) []timeline.TraceEvent {
	var found []timeline.TraceEvent
	for _, e := range tr.Events {
		if e.Cat == cat && (name == "" || e.Name == name) {
			found = append(found, e)
		}
	}
	return found
}

// the returns the one event of cat and name whose request is payload.
func the(t *testing.T, tr *timeline.Trace, cat, name, payload string) timeline.TraceEvent {
	t.Helper()
	var found []timeline.TraceEvent
	for _, e := range find(tr, cat, name) {
		if e.Arg("request") == payload {
			found = append(found, e)
		}
	}
	require.Len(t, found, 1, "%s %s events for %q", cat, name, payload)
	return found[0]
}

func within(e, span timeline.TraceEvent) bool {
	return e.TS >= span.TS && e.TS <= span.TS+span.Dur
}

func TestTheLoopDoesNotPollWhileItRunsATask(t *testing.T) {
	g := testkit.NewGate()
	ts := traced(t, "loop", g, 0)
	a, b := testkit.Dial(t, ts.addr), testkit.Dial(t, ts.addr)
	a.Send("hold 1")
	g.WaitStarted(t)
	b.Send("7") // not read until the task ends
	g.ReleaseOne(t)
	assert.Equal(t, "released hold 1", a.Read())
	assert.Equal(t, "7", b.Read())

	tr := trace(t, ts)
	task := the(t, tr, "task", "gate", "hold 1")
	assert.Equal(t, "loop", tr.Names[timeline.Thread{PID: task.PID, TID: task.TID}], "the loop runs it itself")
	polls := find(tr, "loop", "poll")
	require.NotEmpty(t, polls)
	for _, p := range polls {
		overlaps := p.TS < task.TS+task.Dur && p.TS+p.Dur > task.TS
		assert.False(t, overlaps, "a poll at %.0f µs for %.0f µs, in the task at %.0f µs for %.0f µs", p.TS, p.Dur, task.TS, task.Dur)
	}
	busy := false
	for _, e := range find(tr, "loop", "busy") {
		busy = busy || within(task, e)
	}
	assert.True(t, busy, "the task runs within a busy span")
	request := the(t, tr, "request", "request", "7")
	assert.Greater(t, request.TS+request.Dur, task.TS+task.Dur, "the other request is answered after the task")
}

func TestTheLoopPollsWhileAWorkerRunsTheTask(t *testing.T) {
	g := testkit.NewGate()
	ts := traced(t, "loop+goroutines:2", g, 0)
	a, b := testkit.Dial(t, ts.addr), testkit.Dial(t, ts.addr)
	a.Send("hold 1")
	g.WaitStarted(t)
	assert.Equal(t, "7", b.Ask("7"), "answered while the task runs")
	g.ReleaseOne(t)
	assert.Equal(t, "released hold 1", a.Read())

	tr := trace(t, ts)
	task := the(t, tr, "task", "gate", "hold 1")
	assert.Equal(t, "worker", task.Arg("role"))
	small := the(t, tr, "task", "gate", "7")
	assert.True(t, within(small, task), "the small task ran during the long one")
	busy := false
	for _, e := range find(tr, "loop", "busy") {
		busy = busy || within(e, task)
	}
	assert.True(t, busy, "the loop handled events during the task")
	assert.NotEmpty(t, find(tr, "queue", "queue"), "the queue's depth is recorded")
	queued := the(t, tr, "queue", "queued", "hold 1")
	assert.LessOrEqual(t, queued.TS+queued.Dur, task.TS+0.001, "it waited in the queue before it ran")
}

func TestTaskSpansOfWorkerProcessesCarryTheirPids(t *testing.T) {
	for _, text := range []string{"procpool:2", "loop+nats:2"} {
		t.Run(text, func(t *testing.T) { taskSpansCarryTheWorkersPid(t, text) })
	}
}

func taskSpansCarryTheWorkersPid(t *testing.T, text string) {
	s := parse(t, text)
	if strategy.Describe(s).Executor.Name == natsexec.Name {
		s = natsexec.With(s, startCluster(t, 2).Conn())
	}
	ts := start(t, &server.Server{Strategy: s, Task: callback, Recorder: server.NewRecorder(server.RecorderOptions{})})
	c := testkit.Dial(t, ts.addr)
	pid, hold := holdInWorker(t, c)
	hold.Close() // releases the task
	assert.Equal(t, "released", c.Read())

	tr := trace(t, ts)
	var spans []timeline.TraceEvent
	for _, e := range find(tr, "task", "") {
		if e.PID == pid {
			spans = append(spans, e)
		}
	}
	require.Len(t, spans, 1)
	assert.Contains(t, spans[0].Arg("request"), "call ")
	assert.Contains(t, tr.Processes, pid, "the worker's process is named")
}

func TestPythonModeRecordsEachConnectionThreadsHoldsAndWaits(t *testing.T) {
	ts := traced(t, "perconn", primetime.Prime, 5*time.Millisecond)
	a, b := testkit.Dial(t, ts.addr), testkit.Dial(t, ts.addr)
	assert.Equal(t, "17", a.Ask("7"))
	assert.Equal(t, "29", b.Ask("10"))

	tr := trace(t, ts)
	for _, payload := range []string{"7", "10"} {
		var holds []timeline.TraceEvent
		for _, h := range find(tr, "gil", "hold") {
			if h.Arg("request") == payload {
				holds = append(holds, h)
			}
		}
		require.NotEmpty(t, holds, payload)
		for _, h := range holds {
			assert.Equal(t, "connection", h.Arg("role"))
			assert.Contains(t, []string{"done", "blocked", "drop request"}, h.Arg("ended"))
		}
		request := the(t, tr, "request", "request", payload)
		assert.Equal(t, request.TID, holds[0].TID, "the thread's lane is its connection's")
	}
}

// ownPool is an executor from outside package strategy: one worker
// goroutine, which runs its tasks with a Thread of env.WorkerThread.
type ownPool struct{}

func (ownPool) String() string { return "ownpool" }

func (ownPool) Start(env strategy.Env) (strategy.Runner, error) {
	r := &ownRunner{jobs: make(chan func(*strategy.Thread))}
	th := env.WorkerThread("own worker")
	r.wg.Go(func() {
		for job := range r.jobs {
			job(th)
		}
	})
	return r, nil
}

type ownRunner struct {
	jobs chan func(*strategy.Thread)
	wg   sync.WaitGroup
}

func (r *ownRunner) Submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	r.jobs <- func(th *strategy.Thread) { th.RunTask(ctx, t, payload, done) }
}

func (r *ownRunner) Stop() {
	close(r.jobs)
	r.wg.Wait()
}

func TestAnOutsideExecutorsTasksAreOnItsWorkersLane(t *testing.T) {
	g := testkit.NewGate()
	ts := start(t, &server.Server{Strategy: strategy.Offload(strategy.PerConn(), ownPool{}), Task: g, Recorder: server.NewRecorder(server.RecorderOptions{})})
	c := testkit.Dial(t, ts.addr)
	c.Send("hold 1")
	g.WaitStarted(t)
	g.ReleaseOne(t)
	assert.Equal(t, "released hold 1", c.Read())

	tr := trace(t, ts)
	task := the(t, tr, "task", "gate", "hold 1")
	assert.Equal(t, "own worker", tr.Names[timeline.Thread{PID: task.PID, TID: task.TID}])
	assert.Equal(t, "worker", task.Arg("role"))
}
