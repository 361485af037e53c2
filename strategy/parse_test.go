package strategy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/strategy"
)

func TestParseRoundTripsThroughString(t *testing.T) {
	forms := map[string]string{
		"serial":                "serial",
		"perconn":               "perconn",
		"pool:8":                "pool:8",
		"loop":                  "loop",
		"loop+goroutines:4":     "loop+goroutines:4",
		"pool:8+goroutines:2":   "pool:8+goroutines:2",
		"serial+goroutines:1":   "serial+goroutines:1",
		"perconn+inline":        "perconn",
		"  Loop+Goroutines:4  ": "loop+goroutines:4",
		"pool:65536":            "pool:65536",
		"procpool:2":            "procpool:2",
		"procpool":              "procpool",
		"perconn+procs:3":       "procpool:3",
		"loop+procs:2":          "loop+procs:2",
		"loop+procs":            "loop+procs",
		"pool:4+procs:2":        "pool:4+procs:2",
		"loops:2":               "loops:2",
		"loops":                 "loops",
		"loops:2+goroutines:4":  "loops:2+goroutines:4",
		"loops+procs:2":         "loops+procs:2",
	}
	for text, want := range forms {
		s, err := strategy.Parse(text)
		require.NoError(t, err, text)
		assert.Equal(t, want, s.String(), text)
		again, err := strategy.Parse(s.String())
		require.NoError(t, err)
		assert.Equal(t, s, again, "Parse(String()) gives the same strategy")
	}
}

func TestConstructorsMatchTheirTextForms(t *testing.T) {
	assert.Equal(t, "serial", strategy.Serial().String())
	assert.Equal(t, "perconn", strategy.PerConn().String())
	assert.Equal(t, "pool:3", strategy.Pool(3).String())
	assert.Equal(t, "loop", strategy.Loop().String())
	assert.Equal(t, "loop+goroutines:4", strategy.LoopWithOffload(strategy.Goroutines(4)).String())
	assert.Equal(t, "pool:3+goroutines:2", strategy.Offload(strategy.Pool(3), strategy.Goroutines(2)).String())
	assert.Equal(t, "perconn", strategy.Offload(strategy.PerConn(), strategy.Inline()).String())
	assert.Equal(t, "procpool:2", strategy.ProcessPool(2).String())
	assert.Equal(t, "procpool", strategy.ProcessPool(0).String())
	assert.Equal(t, "loop+procs:2", strategy.LoopWithOffload(strategy.Processes(2)).String())
	assert.Equal(t, "loops:3", strategy.Loops(3).String())
	assert.Equal(t, "loops", strategy.Loops(0).String())
	assert.Equal(t, "loops:2+goroutines:4", strategy.Offload(strategy.Loops(2), strategy.Goroutines(4)).String())
}

func TestDescribeSaysWhatAStrategyIsMadeOf(t *testing.T) {
	cases := map[string]strategy.Description{
		"serial":       {Scheduler: strategy.Part{Name: "serial", MaxConns: 1}, Executor: strategy.Part{Name: "inline"}},
		"pool:8":       {Scheduler: strategy.Part{Name: "pool", Size: 8, MaxConns: 8}, Executor: strategy.Part{Name: "inline"}},
		"procpool:2":   {Scheduler: strategy.Part{Name: "perconn"}, Executor: strategy.Part{Name: "procs", Size: 2}},
		"procpool":     {Scheduler: strategy.Part{Name: "perconn"}, Executor: strategy.Part{Name: "procs"}},
		"loop+procs:2": {Scheduler: strategy.Part{Name: "loop"}, Executor: strategy.Part{Name: "procs", Size: 2}, Loop: true},
		"loops:3+goroutines:4": {Scheduler: strategy.Part{Name: "loops", Size: 3},
			Executor: strategy.Part{Name: "goroutines", Size: 4}, Loop: true},
		// Parts from elsewhere are described by their text forms.
		"lifo:4+spawn": {Scheduler: strategy.Part{Name: "lifo", Size: 4}, Executor: strategy.Part{Name: "spawn"}},
	}
	for text, want := range cases {
		s, err := strategy.Parse(text)
		require.NoError(t, err)
		assert.Equal(t, want, strategy.Describe(s), text)
	}
	assert.Equal(t, strategy.Description{Scheduler: strategy.Part{Name: "mine"}}, strategy.Describe(named("mine")))
}

// named is a Strategy made elsewhere, with its text form only.
type named string

func (n named) String() string                              { return string(n) }
func (n named) Serve(strategy.Listener, strategy.Env) error { return nil }

func TestParseErrorsSayWhatIsWrong(t *testing.T) {
	cases := map[string]string{
		"": "empty strategy name",
		// The forms registered by this test binary's examples are listed too.
		"threads":            `unknown scheduler "threads" (want serial, perconn, pool:N, loop, loops:N, lifo:N or procpool:N, optionally followed by +goroutines:N or +procs:N or +spawn)`,
		"procpool:0":         `procpool size "0"`,
		"procpool+procs:2":   "procpool already runs its tasks in processes",
		"loop+procs:x":       `procs size "x"`,
		"pool":               "pool needs a size, as in pool:4",
		"pool:":              "pool needs a size",
		"pool:0":             `pool size "0" is not a whole number from 1 to 65536`,
		"pool:-2":            `pool size "-2"`,
		"pool:x":             `pool size "x"`,
		"pool:65537":         `pool size "65537"`,
		"serial:2":           `serial takes no size, got "serial:2"`,
		"loop+":              `unknown executor ""`,
		"loop+fibers:2":      `unknown executor "fibers" (want inline, goroutines:N, procs:N or spawn)`,
		"loop+goroutines":    "goroutines needs a size",
		"loop+goroutines:0":  `goroutines size "0"`,
		"loop+inline:2":      `inline takes no size`,
		"loop+goroutines:1+": `goroutines size "1+"`,
	}
	for text, want := range cases {
		_, err := strategy.Parse(text)
		require.Error(t, err, "Parse(%q)", text)
		assert.Contains(t, err.Error(), "strategy: ", "Parse(%q)", text)
		assert.Contains(t, err.Error(), want, "Parse(%q)", text)
	}
	_, err := strategy.Parse("loop+goroutines:x")
	assert.EqualError(t, err, `strategy: "loop+goroutines:x": goroutines size "x" is not a whole number from 1 to 65536`)
}

type foreign struct{ strategy.Strategy }

// notAScheduler has a text form and nothing else.
type notAScheduler struct{}

func (notAScheduler) String() string { return "nothing" }

func TestConstructorsRefuseMisuse(t *testing.T) {
	assert.PanicsWithValue(t, "strategy: Pool size must be at least 1", func() { strategy.Pool(0) })
	assert.PanicsWithValue(t, "strategy: Goroutines needs at least 1 worker", func() { strategy.Goroutines(0) })
	assert.Panics(t, func() { strategy.Offload(foreign{}, strategy.Inline()) })
	assert.Panics(t, func() { strategy.Offload(strategy.Loop(), nil) })
	assert.Panics(t, func() { strategy.Processes(-1) })
	assert.Panics(t, func() { strategy.Loops(-1) })
	assert.PanicsWithValue(t, "strategy: New with a strategy_test.notAScheduler, which is neither a ConnScheduler nor a LoopScheduler", func() {
		strategy.New(notAScheduler{}, nil)
	})
	assert.PanicsWithValue(t, `strategy: scheduler "perconn" registered twice`, func() {
		strategy.RegisterScheduler("perconn", func(string) (strategy.Scheduler, error) { return nil, nil })
	})
	assert.Panics(t, func() {
		strategy.RegisterExecutor("a+b", func(string) (strategy.Executor, error) { return nil, nil })
	})
}
