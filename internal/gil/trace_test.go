package gil

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/timeline"
)

// With a manual clock and manual intervals, a long task that a small one
// waits for holds the lock in one-interval slices, each ended by a drop
// request that the small thread made before the release.
func TestTheTraceShowsTheLongThreadHoldingInOneIntervalSlices(t *testing.T) {
	var clock atomic.Int64
	rec := timeline.New(timeline.Options{Clock: clock.Load})
	g := New(DefaultInterval)
	g.SetRecorder(rec)
	m := withManualIntervals(g)
	long, small := g.NewThread(Connection), g.NewThread(Connection)
	long.SetLane(rec.Lane("conn 1", "connection"))
	small.SetLane(rec.Lane("conn 2", "connection"))
	long.Serving([]byte("10000"))
	small.Serving([]byte("7"))

	held, step, stepped, done := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		long.Run(func() {
			close(held)
			for range step {
				long.Checkpoint()
				stepped <- struct{}{}
			}
		})
	}()
	<-held
	const slices = 3
	for range slices {
		ran := make(chan struct{})
		go func() { small.Run(func() {}); close(ran) }()
		end := m.nextWait(t)
		clock.Add(int64(DefaultInterval))
		end <- time.Time{} // a whole interval: small asks for the drop
		m.nextWait(t)      // and waits again
		step <- struct{}{} // long's checkpoint drops; small runs; long takes back
		<-stepped
		<-ran
		for len(m.started) > 0 { // long's own waits while small held the lock
			close(<-m.started)
		}
	}
	close(step)
	<-done

	events, _ := rec.Events()
	var holds, drops []timeline.Event
	for _, e := range events {
		switch {
		case e.Kind == timeline.Hold && e.Payload() == "10000":
			holds = append(holds, e)
		case e.Kind == timeline.DropRequest:
			assert.Equal(t, "7", e.Payload(), "the waiter asks")
			drops = append(drops, e)
		}
	}
	require.Len(t, holds, slices+1)
	require.Len(t, drops, slices)
	for i, h := range holds[:slices] {
		assert.Equal(t, timeline.Dropped, h.Why)
		assert.Equal(t, int64(DefaultInterval), h.Dur, "one switch interval")
		d := drops[i]
		assert.True(t, d.TS >= h.TS && d.TS <= h.TS+h.Dur, "the drop request comes within the hold it ends")
	}
	assert.Equal(t, timeline.Done, holds[slices].Why)
	var waited int64
	for _, e := range events {
		if e.Kind == timeline.Wait && e.Payload() == "7" {
			waited += e.Dur
		}
	}
	assert.Equal(t, int64(slices*DefaultInterval), waited, "the small thread waited an interval each time")
}
