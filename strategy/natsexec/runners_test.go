package natsexec

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestRunnersRunEachOnceAndStopWaits: every function handed over runs
// exactly once, however many run at once and whether a kept goroutine or a
// new one takes it, and stop returns only once the last has.
func TestRunnersRunEachOnceAndStopWaits(t *testing.T) {
	r := newRunners(2)
	const n = 50
	var ran [n]atomic.Int32
	gate := make(chan struct{})
	var started sync.WaitGroup
	started.Add(n)
	for i := range n {
		r.run(func() {
			started.Done()
			<-gate
			ran[i].Add(1)
		})
	}
	started.Wait() // all n run at once: n goroutines
	close(gate)
	// Some of those goroutines are kept; these go to them or to new ones.
	for i := range n {
		r.run(func() { ran[i].Add(1) })
	}
	last := make(chan struct{})
	release := make(chan struct{})
	r.run(func() {
		close(last)
		<-release
	})
	<-last
	stopped := make(chan struct{})
	go func() {
		r.stop()
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Fatal("stop returned while a function still ran")
	default:
	}
	close(release)
	<-stopped
	for i := range n {
		if got := ran[i].Load(); got != 2 {
			t.Errorf("function %d ran %d times, want 2", i, got)
		}
	}
}
