package strategytest_test

import (
	"os"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/natslocal"
	"github.com/primetime-lab/primetime/strategy"
	"github.com/primetime-lab/primetime/strategy/natsexec"
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

// TestTheNATSStrategiesConform runs the suite for the NATS executor, on a
// NATS server in this process with two workers of this test binary.
func TestTheNATSStrategiesConform(t *testing.T) {
	cluster, err := natslocal.Start(2, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cluster.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, text := range []string{"loop+nats:2", "perconn+nats:2"} {
		s, err := strategy.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(text, func(t *testing.T) { strategytest.Run(t, natsexec.With(s, cluster.Conn())) })
	}
}

func TestRunSchedulerAndRunExecutorCombineWithTheBuiltIns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite four more times")
	}
	strategytest.RunExecutor(t, strategy.Goroutines(1))
	strategytest.RunScheduler(t, twoAtATime{})
}

// twoAtATime is a scheduler of the test's own: it serves at most two
// connections at once, each on a goroutine of its own, and takes the next
// connection only when one of them is done.
type twoAtATime struct{}

func (twoAtATime) String() string { return "two-at-a-time" }

func (twoAtATime) Schedule(l strategy.Listener, h strategy.Handler) error {
	places := make(chan struct{}, 2)
	var serving sync.WaitGroup
	defer serving.Wait()
	for {
		places <- struct{}{}
		c, err := l.Accept()
		if err != nil {
			return err
		}
		serving.Go(func() {
			defer func() { <-places }()
			h.ServeConn(c)
		})
	}
}
