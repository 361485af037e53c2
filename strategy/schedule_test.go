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
)

// orderRunner is an inline runner that records the payloads it runs, in
// order, and holds the one called "hold" until release is closed.
type orderRunner struct {
	mu      sync.Mutex
	ran     []string
	started chan struct{} // closed when "hold" starts
	release chan struct{}
}

func (o *orderRunner) run(_ context.Context, _ primetime.Task, payload []byte) ([]byte, error) {
	o.mu.Lock()
	o.ran = append(o.ran, string(payload))
	o.mu.Unlock()
	if string(payload) == "hold" {
		close(o.started)
		<-o.release
	}
	return payload, nil
}

func (o *orderRunner) stop() {}

// queued returns how many events wait in lp's queue.
func (lp *eventLoop) queued() int {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return len(lp.queue) - lp.events
}

func TestLoopHandlesQueuedRequestsInArrivalOrder(t *testing.T) {
	o := &orderRunner{started: make(chan struct{}), release: make(chan struct{})}
	lp := &eventLoop{run: o, inline: true}
	var readers sync.WaitGroup
	ask := func(payload string) {
		readers.Go(func() {
			r := &loopReader{lp: lp, reply: make(chan loopAnswer, 1)}
			a := r.handle(Request{Context: context.Background(), Payload: []byte(payload)})
			assert.Equal(t, payload, string(a.answer))
		})
	}

	ask("hold")
	select {
	case <-o.started:
	case <-time.After(bound):
		t.Fatal("the first request never ran")
	}
	// More than the 64 after which the queue is compacted, each sent
	// once the one before it waits in the queue.
	const n = 100
	want := []string{"hold"}
	for i := range n {
		ask(fmt.Sprint(i))
		want = append(want, fmt.Sprint(i))
		for deadline := time.Now().Add(bound); lp.queued() < i+1; {
			require.True(t, time.Now().Before(deadline), "request %d never reached the queue", i)
			time.Sleep(100 * time.Microsecond)
		}
	}
	close(o.release)
	answered := make(chan struct{})
	go func() {
		readers.Wait()
		close(answered)
	}()
	select {
	case <-answered:
	case <-time.After(bound):
		t.Fatal("some requests were never answered: the loop lost them")
	}

	assert.Equal(t, want, o.ran, "the loop ran them in the order they came")
	assert.Zero(t, lp.queued())
	lp.mu.Lock()
	assert.False(t, lp.busy, "the loop is free again")
	lp.mu.Unlock()
}
