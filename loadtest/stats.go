package loadtest

import (
	"runtime"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds, from 1 µs to 10 minutes, to three
// significant digits: a percentile is within 0.1% of the exact one.
const (
	histMin     = 1
	histMax     = int64(10 * time.Minute / time.Microsecond)
	histSigFigs = 3
)

func newHistogram() *hdr.Histogram { return hdr.New(histMin, histMax, histSigFigs) }

func newPackedHistogram() *hdr.PackedHistogram { return hdr.NewPacked(histMin, histMax, histSigFigs) }

func recordLatency(h *hdr.Histogram, d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < histMin {
		us = histMin
	}
	if us > histMax {
		us = histMax
	}
	h.RecordValue(us) // cannot fail: us is within range
}

// percentiles reads h's percentiles.
func percentiles(h *hdr.Histogram) Percentiles {
	return percentilesOf(h.TotalCount(), h.Mean(), h.Max(), h.ValueAtQuantile)
}

// packedPercentiles reads a packed histogram's, which has the same
// buckets and percentile rule as the dense one.
func packedPercentiles(h *hdr.PackedHistogram) Percentiles {
	return percentilesOf(h.TotalCount(), h.Mean(), h.Max(), h.ValueAtPercentile)
}

func percentilesOf(total int64, mean float64, most int64, valueAt func(q float64) int64) Percentiles {
	if total == 0 {
		return Percentiles{}
	}
	at := func(q float64) time.Duration { return time.Duration(valueAt(q)) * time.Microsecond }
	return Percentiles{
		Mean: time.Duration(mean * float64(time.Microsecond)),
		P50:  at(50),
		P90:  at(90),
		P99:  at(99),
		P999: at(99.9),
		Max:  time.Duration(most) * time.Microsecond,
	}
}

// phase is where a small request's answer falls relative to the long
// request.
type phase int32

const (
	before phase = iota
	during
	after
	numPhases
)

// errKind is how a small request failed.
type errKind int

const (
	errConnect errKind = iota
	errWrite
	errRead
	errClosed
	errAnswer
	errBadAnswer
	numErrKinds
)

// errKindNames name the kinds: err-answer is an error answer (the server
// refused the request, as "ERR" or an HTTP status other than 200),
// bad-answer an answer that cannot be decoded or is wrong for its request.
var errKindNames = [numErrKinds]string{"connect", "write", "read", "closed", "err-answer", "bad-answer"}

// bucket is what one client counted during one interval.
type bucket struct {
	busy    atomic.Bool // the client is writing to the bucket
	hist    *hdr.Histogram
	answers [numPhases]int
	errors  [numErrKinds]int
}

func newBucket() *bucket { return &bucket{hist: newHistogram()} }

func (b *bucket) reset() {
	b.hist.Reset()
	b.answers = [numPhases]int{}
	b.errors = [numErrKinds]int{}
}

// tally is one client's counts. The client writes to the current bucket
// without a lock; at each interval's end the monitor swaps in a fresh
// bucket and reads the old one once the client is done with it. A client
// marks the bucket busy and then checks that it is still current; the
// monitor swaps and then waits while the old bucket is busy. With
// sequentially consistent atomics, either the client sees the swap and
// moves to the new bucket, or the monitor sees the client busy and waits:
// the monitor never reads a bucket while it is written.
type tally struct {
	cur   atomic.Pointer[bucket]
	spare *bucket // owned by the monitor
}

func newTally() *tally {
	t := &tally{spare: newBucket()}
	t.cur.Store(newBucket())
	return t
}

// acquire returns the current bucket, marked busy, on the client's
// goroutine; the client clears busy when it is done with it.
func (t *tally) acquire() *bucket {
	for {
		b := t.cur.Load()
		b.busy.Store(true)
		if t.cur.Load() == b {
			return b
		}
		b.busy.Store(false)
	}
}

func (t *tally) answer(p phase, latency time.Duration) {
	b := t.acquire()
	recordLatency(b.hist, latency)
	b.answers[p]++
	b.busy.Store(false)
}

func (t *tally) fail(k errKind) {
	b := t.acquire()
	b.errors[k]++
	b.busy.Store(false)
}

// swap hands the client a fresh bucket and returns the one it filled,
// which the monitor must give back with release once read.
func (t *tally) swap() *bucket {
	t.spare.reset()
	old := t.cur.Swap(t.spare)
	for old.busy.Load() {
		runtime.Gosched()
	}
	t.spare = nil
	return old
}

func (t *tally) release(b *bucket) { t.spare = b }
