package timeline

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// manual is a clock the test moves.
type manual struct{ now int64 }

func (m *manual) clock() int64 { return m.now }

func (m *manual) advance(d time.Duration) { m.now += int64(d) }

func TestANilLaneRecordsNothingAndAllocatesNothing(t *testing.T) {
	var l *Lane
	allocs := testing.AllocsPerRun(100, func() {
		start := l.Now()
		l.Span(Task, start, []byte("7"))
		l.Hold(start, l.Now(), Dropped, nil)
		l.Busy(start, 3)
		l.Instant(DropRequest, nil)
		l.Depth(2)
		l.Arrive([]byte("10000"))
	})
	assert.Zero(t, allocs)
	var r *Recorder
	assert.Nil(t, r.Lane("conn 1", "connection"))
}

func TestTheRingStaysWithinItsBudget(t *testing.T) {
	const budget = 1 << 20
	r := New(Options{Budget: budget})
	var lanes []*Lane
	for range 10_000 { // more lanes than the budget holds, a connection each
		if l := r.Lane("conn", "connection"); l != nil {
			lanes = append(lanes, l)
		}
	}
	for i := range 200_000 { // far more events than the budget holds
		l := lanes[i%len(lanes)]
		l.Busy(l.Now(), 1)
	}
	used := cap(r.ring)*int(unsafe.Sizeof(Event{})) + len(lanes)*int(unsafe.Sizeof(Lane{}))
	assert.LessOrEqual(t, used, budget, "the ring and the lanes' buffers (the lanes' names aside)")
	assert.Len(t, r.lanes, len(lanes))
	assert.EqualValues(t, 10_000-len(r.lanes), r.refused, "the lanes past the bound record nothing")
	events, truncated := r.Events()
	assert.Len(t, events, len(r.ring), "the ring keeps the latest events")
	assert.False(t, truncated, "without an anchor nothing is a window's start")
}

func TestTheWindowAroundTheAnchorIsKept(t *testing.T) {
	m := &manual{}
	r := New(Options{Anchor: "10000", Before: 10 * time.Millisecond, After: 20 * time.Millisecond, Clock: m.clock})
	l := r.Lane("conn 1", "connection")
	span := func(payload string) {
		start := l.Now()
		m.advance(time.Millisecond)
		l.Span(Request, start, []byte(payload))
	}
	for range 50 { // 50 ms before the anchor: only the last 10 are in the window
		span("7")
	}
	l.Arrive([]byte("10000"))
	for range 50 { // 50 ms after it: those that start within 20 ms are recorded
		span("7")
	}
	events, truncated := r.Events()
	require.False(t, truncated)
	first, last := events[0], events[len(events)-1]
	assert.Equal(t, int64(39*time.Millisecond), first.TS, "the span that ends as the window begins is in it")
	assert.LessOrEqual(t, last.TS, int64(70*time.Millisecond))
	assert.Len(t, events, 11+21)
}

func TestTheWindowEndsSoonAfterTheAnchorsAnswer(t *testing.T) {
	m := &manual{}
	r := New(Options{Anchor: "10000", Before: 10 * time.Millisecond, After: time.Hour, Clock: m.clock})
	l := r.Lane("conn 1", "connection")
	arrived := l.Arrive([]byte("10000"))
	m.advance(100 * time.Millisecond)
	l.Span(Request, arrived, []byte("10000"))
	for range 50 { // 50 ms after the answer: the first 10 are kept
		m.advance(time.Millisecond)
		l.Instant(DropRequest, nil)
	}
	events, _ := r.Events()
	assert.Len(t, events, 1+10)
}

func TestAFullRingKeepsTheWindowsStartAndSaysSo(t *testing.T) {
	m := &manual{}
	r := New(Options{Budget: 1, Anchor: "long", Before: time.Second, After: time.Hour, Clock: m.clock})
	l := r.Lane("conn 1", "connection")
	l.Arrive([]byte("long"))
	for i := range 3 * len(r.ring) {
		m.advance(time.Microsecond)
		l.Instant(DropRequest, []byte{byte('0' + i%10)})
	}
	events, _ := r.Events()
	require.Len(t, events, len(r.ring))
	assert.Equal(t, int64(time.Microsecond), events[0].TS, "the first events after the anchor are kept")
	var b bytes.Buffer
	require.NoError(t, r.WriteTrace(&b, Meta{}))
	tr, err := ReadTrace(&b)
	require.NoError(t, err)
	assert.Equal(t, true, tr.Other["budget_filled"])
}

func TestTheTraceIsValidTraceEventFormat(t *testing.T) {
	m := &manual{}
	r := New(Options{Anchor: "10000", Clock: m.clock})
	loop := r.Lane("loop", "loop")
	conn := r.Lane("conn 1", "connection")
	queue := r.Lane("queue", "queue")
	worker := r.ProcessLane("worker 1", "worker", 4242)

	arrived := conn.Arrive([]byte("10000"))
	poll := loop.Now()
	m.advance(time.Millisecond)
	loop.Span(Poll, poll, nil)
	busy := loop.Now()
	queue.Depth(1)
	m.advance(time.Millisecond)
	loop.Busy(busy, 2)
	hold := conn.Now()
	m.advance(5 * time.Millisecond)
	conn.Instant(DropRequest, []byte("7"))
	conn.Hold(hold, conn.Now(), Dropped, []byte("10000"))
	task := worker.Now()
	m.advance(time.Millisecond)
	worker.Span(Task, task, []byte("10000"))
	conn.Span(Request, arrived, []byte("10000"))

	var b bytes.Buffer
	require.NoError(t, r.WriteTrace(&b, Meta{Process: "perconn gil=5ms", Task: "prime"}))
	tr, err := ReadTrace(&b)
	require.NoError(t, err, b.String())
	assert.Equal(t, "perconn gil=5ms", tr.Processes[tr.Events[0].PID])
	assert.Equal(t, "worker 4242", tr.Processes[4242])
	byName := map[string]TraceEvent{}
	for _, e := range tr.Events {
		byName[e.Cat+"/"+e.Name] = e
	}
	assert.Equal(t, "drop request", byName["gil/hold"].Arg("ended"))
	assert.Equal(t, "10000", byName["gil/hold"].Arg("request"))
	assert.Equal(t, "connection", byName["gil/hold"].Arg("role"))
	assert.InDelta(t, 5000, byName["gil/hold"].Dur, 0.001, "microseconds")
	assert.EqualValues(t, 2, byName["loop/busy"].Args["events"])
	assert.EqualValues(t, 1, byName["queue/queue"].Args["depth"])
	assert.Equal(t, "C", byName["queue/queue"].Ph)
	assert.Equal(t, 4242, byName["task/prime"].PID)
	assert.Equal(t, "conn 1", tr.Names[Thread{byName["gil/hold"].PID, byName["gil/hold"].TID}])
	assert.Equal(t, "worker 1", tr.Names[Thread{4242, byName["task/prime"].TID}])
}

func TestAnyPayloadMakesValidJSON(t *testing.T) {
	r := New(Options{})
	l := r.Lane("conn \"1\"", "connection")
	for _, p := range []string{"a\"b", "\\", "\n\t", "\xff\xfe", "é", "\x00"} {
		l.Instant(DropRequest, []byte(p))
	}
	var b bytes.Buffer
	require.NoError(t, r.WriteTrace(&b, Meta{Task: "t\""}))
	tr, err := ReadTrace(&b)
	require.NoError(t, err, b.String())
	assert.Equal(t, "a\"b", tr.Events[0].Arg("request"))
	assert.Equal(t, "\uFFFD\uFFFD", tr.Events[3].Arg("request"), "invalid UTF-8 is replaced")
}

func TestReadTraceRefusesWhatIsNotATrace(t *testing.T) {
	for name, text := range map[string]string{
		"not JSON":      "nope",
		"no events":     `{"otherData":{}}`,
		"no tid":        `[{"ph":"X","ts":1,"pid":1,"dur":1}]`,
		"backwards":     `[{"ph":"i","ts":5,"pid":1,"tid":1},{"ph":"i","ts":4,"pid":1,"tid":1}]`,
		"unbalanced":    `[{"ph":"B","ts":5,"pid":1,"tid":1}]`,
		"end, no begin": `[{"ph":"E","ts":5,"pid":1,"tid":1}]`,
		"negative span": `[{"ph":"X","ts":5,"dur":-1,"pid":1,"tid":1}]`,
	} {
		_, err := ReadTrace(strings.NewReader(text))
		assert.Error(t, err, name)
	}
	_, err := ReadTrace(strings.NewReader(`[{"ph":"B","ts":1,"pid":1,"tid":1},{"ph":"E","ts":2,"pid":1,"tid":1},{"ph":"i","ts":1,"pid":1,"tid":2}]`))
	assert.NoError(t, err, "each thread's own order is what counts")
}

func TestFiguresAreTakenWhileTheLongRequestRuns(t *testing.T) {
	m := &manual{}
	r := New(Options{Anchor: "10000", Clock: m.clock})
	long, small, loop, queue := r.Lane("conn 1", "connection"), r.Lane("conn 2", "connection"), r.Lane("loop", "loop"), r.Lane("queue", "queue")
	small.Hold(small.Now(), small.Now(), Done, []byte("7")) // before the window: not counted
	m.advance(time.Millisecond)
	arrived := long.Arrive([]byte("10000"))
	queue.Depth(3)
	for range 4 { // 4 x (5 ms long hold, a drop request, 1 ms small hold after a 5 ms wait)
		hold, wait := long.Now(), small.Now()
		m.advance(5 * time.Millisecond)
		small.Instant(DropRequest, []byte("7"))
		long.Hold(hold, long.Now(), Dropped, []byte("10000"))
		small.Span(Wait, wait, []byte("7"))
		hold = small.Now()
		busy := loop.Now()
		m.advance(time.Millisecond)
		small.Hold(hold, small.Now(), Done, []byte("7"))
		small.Span(Request, wait, []byte("7"))
		loop.Busy(busy, 1)
	}
	small.Instant(FailedWake, []byte("7"))
	long.Span(Request, arrived, []byte("10000"))
	m.advance(time.Millisecond)
	small.Hold(small.Now(), small.Now(), Done, []byte("7")) // after the window

	var b bytes.Buffer
	require.NoError(t, r.WriteTrace(&b, Meta{}))
	tr, err := ReadTrace(&b)
	require.NoError(t, err)
	f := tr.Figures("")
	assert.InDelta(t, 24, f.WindowMS, 1e-9)
	assert.True(t, f.Lock)
	assert.InDelta(t, 20.0/24, f.LongHold, 1e-9)
	assert.InDelta(t, 4.0/24, f.SmallHold, 1e-9)
	assert.InDelta(t, 5, f.WaitP50MS, 1e-9)
	assert.InDelta(t, 5, f.WaitP99MS, 1e-9)
	assert.InDelta(t, 4/0.024, f.DropRequests, 1e-6)
	assert.InDelta(t, 7/0.024, f.Switches, 1e-6, "long, small, long, ... 8 holds")
	assert.Equal(t, 1, f.FailedWakes)
	assert.True(t, f.Loop)
	assert.InDelta(t, 4.0/24, f.LoopBusy, 1e-9)
	assert.Equal(t, 3, f.MaxQueue)
	assert.InDelta(t, 6, f.LatencyP99MS, 1e-9)
	assert.InDelta(t, 5, f.RequestWaitP99MS, 1e-9, "one wait per request")
	assert.InDelta(t, 5, f.LongHoldP50MS, 1e-9)
	assert.InDelta(t, 1, f.SmallHoldP50MS, 1e-9)
}
