package compare_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/compare"
	"github.com/primetime-lab/primetime/strategy"
)

// direct is an executor of this test's own: it runs each task on the
// goroutine that submits it.
type direct struct{}

func (direct) String() string                                  { return "direct" }
func (direct) Start(env strategy.Env) (strategy.Runner, error) { return directRunner{env}, nil }

type directRunner struct{ env strategy.Env }

func (r directRunner) Submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	done(r.env.Run(ctx, t, payload))
}
func (directRunner) Stop() {}

// everyOther is a scheduler of this test's own, never registered: a
// goroutine per connection, as PerConn.
type everyOther struct{}

func (everyOther) String() string { return "every-other" }

func (everyOther) Schedule(l strategy.Listener, h strategy.Handler) error {
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

// double is a task of this test's own: it answers its payload twice.
var double = primetime.TaskFunc("double", func(_ context.Context, p []byte) ([]byte, error) {
	return append(append([]byte(nil), p...), p...), nil
})

func init() {
	// In init, so that the child servers, this test program started
	// again, know them too.
	strategy.RegisterExecutor("direct", func(string) (strategy.Executor, error) { return direct{}, nil })
	primetime.Register(double)
}

var customScenario = loadtest.Scenario{Clients: 2, Long: "1500", LongAfter: 100 * time.Millisecond, Duration: 400 * time.Millisecond, Interval: 50 * time.Millisecond}

func TestRunRunsRegisteredStrategiesInChildProcesses(t *testing.T) {
	if !proctest.Available() {
		t.Skip("needs /proc")
	}
	cmp, err := compare.Run(proctest.Context(t), compare.Experiment{
		Scenario:   customScenario,
		Strategies: []string{"perconn+direct"},
		Values:     []strategy.Strategy{strategy.Offload(strategy.Pool(4), direct{})},
	})
	require.NoError(t, err)
	require.Len(t, cmp.Rows, 2)
	assert.Equal(t, "perconn+direct", cmp.Rows[0].Strategy)
	assert.Equal(t, "pool:4+direct", cmp.Rows[1].Strategy)
	for _, row := range cmp.Rows {
		assert.True(t, row.LongAnswered, row.Strategy)
		assert.Positive(t, row.Before, row.Strategy)
		assert.Zero(t, row.Errors, row.Strategy)
	}
}

func TestRunRunsAnyStrategyValueInProcess(t *testing.T) {
	mine := strategy.New(everyOther{}, direct{})
	_, err := compare.Run(proctest.Context(t), compare.Experiment{Scenario: customScenario, Values: []strategy.Strategy{mine}})
	assert.ErrorContains(t, err, "cannot be named in a child process", "a scheduler nobody registered cannot cross to a child")

	cmp, err := compare.Run(proctest.Context(t), compare.Experiment{
		Scenario:  customScenario,
		Values:    []strategy.Strategy{mine},
		InProcess: true,
	})
	require.NoError(t, err)
	require.Len(t, cmp.Rows, 1)
	assert.Equal(t, "every-other+direct", cmp.Rows[0].Strategy)
	assert.True(t, cmp.Rows[0].LongAnswered)
	assert.Positive(t, cmp.Rows[0].Before)
}

func TestRunTakesTheAnswersOfATaskOfOnesOwnWithItsCheck(t *testing.T) {
	x := compare.Experiment{
		Scenario:   customScenario,
		Strategies: []string{"perconn"},
		Task:       "double",
		InProcess:  true,
	}
	_, err := compare.Run(proctest.Context(t), x)
	var fe *loadtest.FieldError
	require.ErrorAs(t, err, &fe, "a nil Check checks the prime task's answers, as in loadtest.Run")
	assert.Equal(t, "Check", fe.Field)
	assert.Contains(t, fe.Error(), "loadtest.AnyAnswer")

	x.Scenario.Check = loadtest.AnyAnswer
	cmp, err := compare.Run(proctest.Context(t), x)
	require.NoError(t, err)
	row := cmp.Rows[0]
	assert.Zero(t, row.Errors, "the prime task's check is not applied to another task")
	assert.Positive(t, row.Before)
	assert.Equal(t, "15001500", cmp.Results[0].Summary.LongAnswer)
}
