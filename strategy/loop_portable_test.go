package strategy

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// queued returns how many events wait in lp's queue.
func (lp *eventLoop) queued() int {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return len(lp.queue) - lp.events
}

func TestLoopHandlesQueuedRequestsInArrivalOrder(t *testing.T) {
	// More than the 64 handled events after which the queue is compacted.
	const n = 100
	g := &gate{started: make(chan string, n+1), release: make(chan struct{})}
	lp := &eventLoop{run: inline{}, inline: true}
	var readers sync.WaitGroup
	ask := func(payload string) {
		readers.Go(func() {
			r := &loopReader{lp: lp, reply: make(chan loopAnswer, 1)}
			a := r.handle(Request{Context: context.Background(), Task: g, Payload: []byte(payload)})
			assert.Equal(t, payload, string(a.answer))
		})
	}

	ask("hold")
	select {
	case <-g.started:
	case <-time.After(bound):
		t.Fatal("the first request never ran")
	}
	// Each request is sent once the one before it waits in the queue.
	want := []string{"start hold", "end hold"}
	for i := range n {
		ask(fmt.Sprint(i))
		want = append(want, fmt.Sprint("start ", i), fmt.Sprint("end ", i))
		for deadline := time.Now().Add(bound); lp.queued() < i+1; {
			require.True(t, time.Now().Before(deadline), "request %d never reached the queue", i)
			time.Sleep(100 * time.Microsecond)
		}
	}
	close(g.release)
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

	g.mu.Lock()
	assert.Equal(t, want, g.events, "the loop ran them one at a time, in the order they came")
	g.mu.Unlock()
	assert.Zero(t, lp.queued())
	lp.mu.Lock()
	assert.False(t, lp.busy, "the loop is free again")
	lp.mu.Unlock()
}
