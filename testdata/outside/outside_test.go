package outside

import (
	"context"
	"testing"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/compare"
	"github.com/primetime-lab/primetime/strategy"
	"github.com/primetime-lab/primetime/strategy/strategytest"
)

func TestMain(m *testing.M) {
	primetime.MaybeWorker()
	m.Run()
}

var scenario = loadtest.Scenario{Clients: 2, Long: "1500", LongAfter: 100 * time.Millisecond, Duration: 400 * time.Millisecond}

func TestCompareMyOwnStrategies(t *testing.T) {
	for _, inProcess := range []bool{false, true} {
		cmp, err := compare.Run(context.Background(), compare.Experiment{
			Scenario: scenario,
			// By name, registered: runs in child processes too.
			Strategies: []string{"perconn+queue:2", "loop+queue:2"},
			// As values: Workers is not registered, so in-process only.
			Values:    valuesFor(inProcess),
			InProcess: inProcess,
		})
		if err != nil {
			t.Fatalf("in process %v: %v", inProcess, err)
		}
		for _, row := range cmp.Rows {
			if !row.LongAnswered || row.Before <= 0 || row.Errors != 0 {
				t.Errorf("in process %v: %+v", inProcess, row)
			}
			t.Logf("in process %v: %s kept %.0f%%", inProcess, row.Strategy, 100*row.Kept)
		}
	}
}

func valuesFor(inProcess bool) []strategy.Strategy {
	if !inProcess {
		return nil
	}
	return []strategy.Strategy{strategy.New(Workers{N: 4}, Queue{N: 2}), strategy.Offload(strategy.Pool(4), Queue{N: 1})}
}

// TestMyStrategiesConform runs the conformance suite for the scheduler and
// the executor of this module's own, with the built-in ones.
func TestMyStrategiesConform(t *testing.T) {
	strategytest.RunScheduler(t, Workers{N: 4})
	strategytest.RunScheduler(t, Loop{})
	strategytest.RunExecutor(t, Queue{N: 2})
}
