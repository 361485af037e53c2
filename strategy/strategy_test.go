package strategy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/internal/worker"
)

func TestMain(m *testing.M) {
	primetime.MaybeWorker()
	goleak.VerifyTestMain(m)
}

func init() {
	// Registered in init, so that worker processes have it too.
	primetime.Register(echo)
}

// startRunner starts e in Go mode.
func startRunner(e Executor) (runner, error) {
	r, err := e.Start(Env{})
	if err != nil {
		return nil, err
	}
	return asRunner(r), nil
}

// fakeListener hands out the connections sent on conns and fails with
// errDone once conns is closed.
type fakeListener struct{ conns chan Conn }

var errDone = errors.New("listener done")

func (l fakeListener) Accept() (Conn, error) {
	c, ok := <-l.conns
	if !ok {
		return nil, errDone
	}
	return c, nil
}

// fakeConn serves a fixed list of requests and records the answers.
type fakeConn struct {
	task     primetime.Task
	requests []string

	mu      sync.Mutex
	answers []string
	closed  int
}

func (c *fakeConn) ReadRequest() (Request, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.answers) == len(c.requests) {
		return Request{}, io.EOF
	}
	p := c.requests[len(c.answers)]
	return Request{Context: context.Background(), Task: c.task, Payload: []byte(p)}, nil
}

func (c *fakeConn) WriteAnswer(answer []byte, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.answers = append(c.answers, "ERR "+err.Error())
	} else {
		c.answers = append(c.answers, string(answer))
	}
	return nil
}

func (c *fakeConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed++
	return nil
}

var echo = primetime.TaskFunc("echo", func(_ context.Context, p []byte) ([]byte, error) {
	if string(p) == "panic" {
		panic("echo panicked")
	}
	return p, nil
})

func TestServeAnswersEveryRequestThenReturnsTheAcceptError(t *testing.T) {
	for _, text := range []string{"serial", "perconn", "pool:2", "loop", "loop+goroutines:3", "pool:1+goroutines:1", "procpool:2", "loop+procs:2"} {
		t.Run(text, func(t *testing.T) {
			s, err := Parse(text)
			require.NoError(t, err)
			l := fakeListener{conns: make(chan Conn)}
			served := make(chan error, 1)
			go func() { served <- s.Serve(l, Env{}) }()

			var conns []*fakeConn
			for i := range 4 {
				c := &fakeConn{task: echo, requests: []string{fmt.Sprint(i, "a"), "panic", fmt.Sprint(i, "b")}}
				conns = append(conns, c)
				l.conns <- c
			}
			close(l.conns)
			select {
			case err := <-served:
				assert.ErrorIs(t, err, errDone)
			case <-time.After(testkit.Bound):
				t.Fatal("Serve did not return")
			}
			for i, c := range conns {
				assert.Equal(t, []string{fmt.Sprint(i, "a"), "ERR task echo panicked: echo panicked", fmt.Sprint(i, "b")}, c.answers)
				assert.Equal(t, 1, c.closed, "Serve closes every connection once")
			}
		})
	}
}

func TestGoroutinesRunsAtMostNTasksAtOnce(t *testing.T) {
	g := testkit.NewGate()
	run, err := startRunner(Goroutines(2))
	require.NoError(t, err)
	defer run.Stop()

	var wg sync.WaitGroup
	for _, p := range []string{"hold a", "hold b"} {
		wg.Go(func() {
			ans, err := run.run(context.Background(), g, []byte(p))
			assert.NoError(t, err)
			assert.Equal(t, "released "+p, string(ans))
		})
	}
	g.WaitStarted(t)
	g.WaitStarted(t)
	wg.Go(func() {
		ans, err := run.run(context.Background(), g, []byte("hold c"))
		assert.NoError(t, err)
		assert.Equal(t, "released hold c", string(ans))
	})
	g.ReleaseOne(t) // one of a and b ends, freeing a worker for c
	assert.Equal(t, "hold c", g.WaitStarted(t))
	g.ReleaseOne(t)
	g.ReleaseOne(t)
	wg.Wait()

	events := g.Events()
	require.Len(t, events, 6)
	assert.Equal(t, "start hold c", events[3], "c starts only after a task ended: %v", events)
	assert.Contains(t, events[2], "end ", "c starts only after a task ended: %v", events)
}

func TestGoroutinesGivesUpOnATaskWhoseContextEndsBeforeItStarts(t *testing.T) {
	g := testkit.NewGate()
	run, err := startRunner(Goroutines(1))
	require.NoError(t, err)
	defer run.Stop()

	busy := make(chan error, 1)
	go func() {
		_, err := run.run(context.Background(), g, []byte("hold busy"))
		busy <- err
	}()
	g.WaitStarted(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = run.run(ctx, g, []byte("hold waiting"))
	assert.ErrorIs(t, err, context.Canceled)
	g.ReleaseOne(t)
	assert.NoError(t, <-busy)
}

func TestExecutorsTurnPanicsIntoErrors(t *testing.T) {
	for _, e := range []Executor{Inline(), Goroutines(1)} {
		run, err := startRunner(e)
		require.NoError(t, err)
		_, err = run.run(context.Background(), echo, []byte("panic"))
		var p *PanicError
		require.ErrorAs(t, err, &p, e.String())
		assert.Equal(t, "echo", p.Task)
		assert.Equal(t, "echo panicked", p.Value)
		assert.Contains(t, string(p.Stack), "strategy.runTask")
		_, err = run.run(context.Background(), nil, nil)
		assert.ErrorIs(t, err, errNoTask)
		run.Stop()
	}
}

func TestARemoteChargesBothHopsWithTheLockInPythonMode(t *testing.T) {
	python := gil.NewInterpreter(time.Millisecond, gil.Costs{PoolHop: time.Microsecond})
	r := Env{Python: python}.Remote("test")
	answer, err := r.Call("echo", nil, func() ([]byte, RemoteWorker, error) {
		assert.Equal(t, uint64(1), python.Lock().Switches(), "the feeder held the lock before the trip")
		return []byte("a"), RemoteWorker{Pid: 1}, nil
	})
	assert.Equal(t, "a", string(answer))
	assert.NoError(t, err)
	assert.Equal(t, uint64(2), python.Lock().Switches(), "the feeder, then the manager, held the lock")

	_, err = Env{}.Remote("go mode").Call("echo", nil, func() ([]byte, RemoteWorker, error) {
		return nil, RemoteWorker{}, &worker.RemoteError{Code: worker.CodeBadRequest, Msg: "no"}
	})
	assert.ErrorIs(t, err, primetime.ErrBadRequest, "a worker's refusal is the task's")
}

// writeWithAnotherThread is a connection whose writes let another
// interpreter thread take the lock and drop it, as a waiting thread does
// when a Python thread releases the lock in send.
type writeWithAnotherThread struct {
	*fakeConn
	other, own  *gil.Thread
	heldInWrite bool
}

func (c *writeWithAnotherThread) WriteAnswer(answer []byte, err error) error {
	c.heldInWrite = c.heldInWrite || c.own.Held()
	c.other.Run(func() {})
	return c.fakeConn.WriteAnswer(answer, err)
}

func TestAPythonThreadTakesTheLockAgainBetweenSendAndRecv(t *testing.T) {
	python := gil.NewInterpreter(time.Millisecond, gil.Costs{})
	th := python.Lock().NewThread(gil.Connection)
	c := &writeWithAnotherThread{fakeConn: &fakeConn{task: echo, requests: []string{"a", "b"}}, other: python.Lock().NewThread(gil.Connection), own: th}
	serveConn(c, inline{}, th)
	assert.Equal(t, []string{"a", "b"}, c.answers)
	assert.False(t, c.heldInWrite, "the lock is free while the answer is written")
	// The thread for a, the writer, the thread again after send; the
	// writer, the thread after send: b's read finds the lock its own.
	assert.Equal(t, uint64(5), python.Lock().Switches())
}

func TestAPoolWorkerWakesTheLoopWithoutTheLockAndTakesItAgain(t *testing.T) {
	python := gil.NewInterpreter(time.Millisecond, gil.Costs{})
	r, err := Goroutines(1).Start(Env{Python: python})
	require.NoError(t, err)
	other := python.Lock().NewThread(gil.Loop)
	answered := make(chan string, 1)
	r.Submit(context.Background(), echo, []byte("a"), func(answer []byte, err error) {
		assert.NoError(t, err)
		other.Run(func() {}) // free: the worker called back without the lock
		answered <- string(answer)
	})
	assert.Equal(t, "a", <-answered)
	r.Stop()
	// The worker ran the task, the callback's thread took the lock, the
	// worker took it again before it waited for its next job.
	assert.Equal(t, uint64(3), python.Lock().Switches())
}

func TestATaskThatReleasesTheGILRunsWithoutIt(t *testing.T) {
	python := gil.NewInterpreter(time.Millisecond, gil.Costs{})
	th := python.Lock().NewThread(gil.Connection)
	running, release := make(chan struct{}), make(chan struct{})
	released := primetime.ReleasingGIL(primetime.TaskFunc("released", func(ctx context.Context, p []byte) ([]byte, error) {
		close(running)
		<-release
		assert.Nil(t, gil.FromContext(ctx), "its checkpoints have no thread to yield")
		return p, nil
	}))
	answered := make(chan string, 1)
	go th.Run(func() {
		answer, err := runTask(gil.WithThread(context.Background(), th), recovering{released}, []byte("a"))
		assert.NoError(t, err)
		assert.True(t, th.Held(), "the thread takes the lock back after the task")
		answered <- string(answer)
	})
	testkit.Receive(t, running, "the task did not start")
	other := python.Lock().NewThread(gil.Connection)
	took := make(chan struct{})
	go func() {
		other.Run(func() {}) // waits for ever if the task's thread holds the lock
		close(took)
	}()
	testkit.Receive(t, took, "another thread could not take the lock while the task ran")
	close(release)
	assert.Equal(t, "a", testkit.Receive(t, answered, "the task did not end"))
}

func TestTheSHA256TaskReleasesTheGIL(t *testing.T) {
	_, ok := primetime.SHA256.(primetime.GILReleaser)
	assert.True(t, ok)
	_, ok = primetime.Prime.(primetime.GILReleaser)
	assert.False(t, ok)
}
