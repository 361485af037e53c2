package strategytest_test

import (
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/strategy"
	"github.com/primetime-lab/primetime/strategy/strategytest"
)

func TestMain(m *testing.M) {
	// The process pools' workers are this test binary.
	primetime.MaybeWorker()
	goleak.VerifyTestMain(m)
}

// TestEveryBuiltInStrategyConforms runs the suite for every built-in
// scheduler with every built-in executor.
func TestEveryBuiltInStrategyConforms(t *testing.T) {
	for _, text := range []string{
		"serial", "perconn", "pool:1", "pool:4", "loop", "loops:2",
		"serial+goroutines:2", "perconn+goroutines:2", "pool:4+goroutines:2", "loop+goroutines:2", "loops:2+goroutines:2",
		"procpool:2", "pool:3+procs:1", "loop+procs:2", "loops:2+procs:2",
	} {
		s, err := strategy.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(text, func(t *testing.T) { strategytest.Run(t, s) })
	}
}

func TestRunSchedulerAndRunExecutorCombineWithTheBuiltIns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite four more times")
	}
	strategytest.RunExecutor(t, strategy.Goroutines(1))
	strategytest.RunScheduler(t, oneByOne{})
}

// oneByOne is a scheduler of the test's own: it serves each connection on a
// goroutine of its own, as PerConn does, and waits for them.
type oneByOne struct{}

func (oneByOne) String() string { return "one-by-one" }

func (oneByOne) Schedule(l strategy.Listener, h strategy.Handler) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		wg.Go(func() { h.ServeConn(c) })
	}
}
