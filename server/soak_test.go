package server_test

import (
	"context"
	"flag"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

var soak = flag.Duration("soak", 0, "run TestSoak for this long (off when 0)")

// TestSoak holds a mixed load for -soak (go test ./server -run Soak -soak
// 60s -v): small requests, a long one in every round, http and line
// clients, worker processes killed every second, and a request timeout.
// It checks that the goroutine count and the memory in use stay flat from
// the first round to the last.
func TestSoak(t *testing.T) {
	if *soak <= 0 {
		t.Skip("off by default; run with -soak 60s")
	}
	s := &server.Server{Strategy: strategy.ProcessPool(2), RequestTimeout: 2 * time.Second, Logger: discard}
	line := start(t, s)
	hs := &server.Server{Strategy: strategy.LoopWithOffload(strategy.Goroutines(2)), Protocol: server.ProtocolHTTP, Logger: discard}
	httpServer := start(t, hs)

	stop := make(chan struct{})
	kills := make(chan int, 1)
	go func() {
		n := 0
		defer func() { kills <- n }()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			if kids := proctest.Children(); len(kids) > 0 && proctest.Kill(kids[n%len(kids)]) == nil {
				n++
			}
		}
	}()

	const round = 5 * time.Second
	type sample struct {
		goroutines int
		inUse      uint64
	}
	var samples []sample
	var answers, errs int
	for deadline := time.Now().Add(*soak); time.Now().Before(deadline); {
		done := make(chan *loadtest.Result, 1)
		go func() {
			res, _ := loadtest.Run(context.Background(), loadtest.Scenario{Addr: httpServer.addr, Protocol: server.ProtocolHTTP, Clients: 2, Long: "3000", LongAfter: time.Second, Duration: round, Interval: time.Second}, nil)
			done <- res
		}()
		res, err := loadtest.Run(context.Background(), loadtest.Scenario{Addr: line.addr, Clients: 4, Long: "5000", LongAfter: time.Second, Duration: round, Interval: time.Second}, nil)
		require.NoError(t, err)
		hres := <-done
		answers += res.Summary.Answers + hres.Summary.Answers
		errs += res.Summary.Errors + hres.Summary.Errors
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		samples = append(samples, sample{runtime.NumGoroutine(), m.HeapInuse + m.StackInuse})
	}
	close(stop)
	n := <-kills
	first, last := samples[0], samples[len(samples)-1]
	t.Logf("%v: %d rounds, %d answers, %d errors, %d workers killed", *soak, len(samples), answers, errs, n)
	t.Logf("goroutines %d -> %d; heap and stacks %d KiB -> %d KiB", first.goroutines, last.goroutines, first.inUse>>10, last.inUse>>10)
	assert.LessOrEqual(t, last.goroutines, first.goroutines+10, "goroutines stay flat")
	assert.LessOrEqual(t, float64(last.inUse), 1.5*float64(first.inUse)+(1<<20), "memory stays flat")
	st := s.Stats()
	assert.Equal(t, st.Requests, st.Answered+st.Errors+st.Lost)
}
