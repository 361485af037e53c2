package strategy

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/testkit"
)

// queued returns how many events wait for lp.
func (lp *portableLoop) queued() int {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return len(lp.events)
}

func TestLoopHandlesQueuedRequestsInArrivalOrder(t *testing.T) {
	const n = 100
	g := testkit.NewGate()
	lp := &portableLoop{run: inline{}, wake: make(chan struct{}, 1)}
	var loop, readers sync.WaitGroup
	loop.Go(lp.loop)
	ask := func(payload string) {
		readers.Go(func() {
			r := &portableReader{lp: lp, reply: make(chan portableAnswer, 1)}
			r.done = r.answered
			lp.post(portableEvent{req: Request{Context: context.Background(), Task: g, Payload: []byte(payload)}, r: r})
			a := <-r.reply
			want := payload
			if payload == "hold" {
				want = "released hold"
			}
			assert.Equal(t, want, string(a.answer))
		})
	}

	ask("hold")
	g.WaitStarted(t)
	// Each request is sent once the one before it waits in the queue.
	want := []string{"start hold", "end hold"}
	for i := range n {
		ask(fmt.Sprint(i))
		want = append(want, fmt.Sprint("start ", i), fmt.Sprint("end ", i))
		for deadline := time.Now().Add(testkit.Bound); lp.queued() < i+1; {
			require.True(t, time.Now().Before(deadline), "request %d never reached the queue", i)
			time.Sleep(100 * time.Microsecond)
		}
	}
	g.ReleaseOne(t)
	answered := make(chan struct{})
	go func() {
		readers.Wait()
		close(answered)
	}()
	select {
	case <-answered:
	case <-time.After(testkit.Bound):
		t.Fatal("some requests were never answered: the loop lost them")
	}

	assert.Equal(t, want, g.Events(), "the loop ran them one at a time, in the order they came")
	assert.Zero(t, lp.queued())
	lp.post(portableEvent{stop: true})
	loop.Wait()
}

// TestInPythonModeThePortableLoopChargesAsTheReactorDoes checks that the
// portable loop, like the reactor, drops the lock while it waits for
// events and takes a turn of asyncio's machinery for each request: two
// drops of its thread between two requests of a client that waits for
// each answer.
func TestInPythonModeThePortableLoopChargesAsTheReactorDoes(t *testing.T) {
	python := gil.NewInterpreter(time.Millisecond, gil.Costs{LoopRequest: time.Microsecond})
	th := Env{Python: python}.LoopThread()
	drops := make(chan uint64, 8)
	task := primetime.TaskFunc("drops", func(ctx context.Context, p []byte) ([]byte, error) {
		assert.True(t, th.th.Held(), "an inline task runs on the loop with the lock held")
		drops <- th.th.Drops() // on the loop's goroutine, as a thread requires
		return p, nil
	})
	lp := &portableLoop{run: inline{}, th: th, wake: make(chan struct{}, 1)}
	var loop sync.WaitGroup
	loop.Go(lp.loop)
	r := &portableReader{lp: lp, reply: make(chan portableAnswer, 1)}
	r.done = r.answered
	var last uint64
	for i := range 4 {
		lp.post(portableEvent{req: Request{Context: context.Background(), Task: task, Payload: []byte("x")}, r: r})
		require.Equal(t, "x", string((<-r.reply).answer))
		d := <-drops
		if i > 0 {
			assert.GreaterOrEqual(t, d-last, uint64(2), "the wait for the request, and asyncio's turn for it")
		}
		last = d
	}
	lp.post(portableEvent{stop: true})
	loop.Wait()
}
