package server_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

// spinner is a CPU-bound task for Python mode: "spin" runs, calling
// checkpoints, until the test releases it; "spin-blind" does the same
// without checkpoints, like a C extension that never yields the lock.
// Anything else is echoed.
type spinner struct {
	started  chan string
	released atomic.Bool
}

func (s *spinner) Name() string { return "spinner" }

func (s *spinner) Run(ctx context.Context, payload []byte) ([]byte, error) {
	p := string(payload)
	switch p {
	case "spin":
		s.started <- p
		for !s.released.Load() {
			if err := primetime.Checkpoint(ctx); err != nil {
				return nil, err
			}
		}
		return []byte("spun"), nil
	case "spin-blind":
		s.started <- p
		for !s.released.Load() {
		}
		return []byte("spun"), nil
	}
	return payload, nil
}

func startPython(t *testing.T, text string, task primetime.Task) *testServer {
	t.Helper()
	s, err := strategy.Parse(text)
	require.NoError(t, err)
	return start(t, &server.Server{Strategy: s, Task: task, GIL: 200 * time.Microsecond})
}

func TestPythonModeAnswersEveryStrategy(t *testing.T) {
	for _, text := range append(allStrategies, processStrategies...) {
		t.Run(text, func(t *testing.T) {
			ts := startPython(t, text, nil)
			var wg sync.WaitGroup
			for i := range 4 {
				wg.Go(func() {
					c := testkit.Dial(t, ts.addr)
					defer c.Conn().Close()
					for n := 1; n <= 10; n++ {
						p, _ := primetime.NthPrime(context.Background(), n+i)
						line, err := c.ReadAfter(strconv.Itoa(n + i))
						if !assert.NoError(t, err) || !assert.Equal(t, strconv.Itoa(p), line) {
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

func TestPythonModeSwitchesAtCheckpoints(t *testing.T) {
	for _, text := range []string{"perconn", "loop+goroutines:2", "pool:2"} {
		t.Run(text, func(t *testing.T) {
			task := &spinner{started: make(chan string, 1)}
			ts := startPython(t, text, task)
			spin := testkit.Dial(t, ts.addr)
			spin.Send("spin")
			<-task.started
			// The spinning task holds the lock; the other connection's
			// thread gets it only through drop requests.
			other := testkit.Dial(t, ts.addr)
			for i := range 3 {
				msg := "small " + strconv.Itoa(i)
				assert.Equal(t, msg, other.Ask(msg))
			}
			task.released.Store(true)
			assert.Equal(t, "spun", spin.Read())
		})
	}
}

func TestPythonModeBlindTaskStallsEveryThread(t *testing.T) {
	task := &spinner{started: make(chan string, 1)}
	var mu sync.Mutex
	var events []string
	log := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	ts := startPython(t, "perconn", primetime.TaskFunc("blind", func(ctx context.Context, p []byte) ([]byte, error) {
		log("start " + string(p))
		defer log("end " + string(p))
		return task.Run(ctx, p)
	}))
	blind := testkit.Dial(t, ts.addr)
	blind.Send("spin-blind")
	<-task.started
	other := testkit.Dial(t, ts.addr)
	other.Send("small")
	task.released.Store(true)
	assert.Equal(t, "spun", blind.Read())
	assert.Equal(t, "small", other.Read())
	// Without checkpoints the lock is never dropped: the small request
	// cannot start before the blind task ends.
	assert.Equal(t, []string{"start spin-blind", "end spin-blind", "start small", "end small"}, events)
}
