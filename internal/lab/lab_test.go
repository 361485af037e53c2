package lab

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/internal/testkit"
)

func TestMain(m *testing.M) {
	primetime.MaybeWorker() // the servers' worker processes are this test binary
	goleak.VerifyTestMain(m)
}

// next returns the next event of type typ from events, skipping others.
func next(t *testing.T, events <-chan Event, typ string) Event {
	t.Helper()
	for {
		e := testkit.Receive(t, events, "an event "+typ)
		if e.Type == typ {
			return e
		}
	}
}

func TestASectionRunsLiveAndIsKept(t *testing.T) {
	l := &Lab{Interval: 50 * time.Millisecond}
	events, unsubscribe := l.Subscribe()
	defer unsubscribe()
	s, err := l.Start(Settings{Strategy: "perconn", Runtime: RuntimeGo, Clients: 2, Long: "3000"})
	require.NoError(t, err)
	assert.Equal(t, 2, s.Clients)
	started := next(t, events, "started")
	assert.Equal(t, "perconn", started.Data.(map[string]any)["row"])
	require.ErrorIs(t, l.Long(), nil)
	assert.ErrorIs(t, l.Long(), ErrBusy, "one long request at a time")
	answered := next(t, events, "answered")
	assert.Equal(t, "27449", answered.Data.(map[string]any)["answer"], "the 3000th prime")
	kept := next(t, events, "kept").Data.(map[string]any)
	if _, ok := kept["kept"]; !ok {
		// Sent in the run's first interval: nothing before it to compare.
		assert.Contains(t, kept["missing"], "no answers before the long request")
	}
	require.NoError(t, l.Long(), "another, as often as wanted")
	next(t, events, "answered")
	next(t, events, "kept")

	_, err = l.Start(Settings{Strategy: "loop", Runtime: RuntimePython, GIL: "2ms", Clients: 2})
	require.NoError(t, err, "a new preset replaces the server without restarting the lab")
	next(t, events, "stopped")
	next(t, events, "started")
	l.Stop()
	next(t, events, "stopped")
	assert.ErrorIs(t, l.Long(), ErrIdle)

	cmp := l.Comparison()
	require.NotNil(t, cmp)
	require.Len(t, cmp.Rows, 2)
	assert.Equal(t, "perconn", cmp.Rows[0].Label())
	assert.True(t, cmp.Rows[0].LongAnswered)
	assert.Equal(t, "loop gil=2ms", cmp.Rows[1].Label())
	assert.True(t, cmp.Rows[1].NoLong, "no long request was sent to it")
	require.NoError(t, l.Close())
	assert.Empty(t, proctest.Children(), "every server has exited")
	_, open := <-events
	assert.False(t, open, "Close ends the subscriptions")
}

func TestTheOtherRuntimesServeTheirSections(t *testing.T) {
	for _, s := range []Settings{
		{Strategy: "perconn", Runtime: RuntimeCPython, GIL: "5ms", Clients: 2},
		{Strategy: "perconn", Runtime: RuntimeJVM, Clients: 2},
	} {
		proctest.Tool(t, map[string]string{RuntimeCPython: "python3", RuntimeJVM: "java"}[s.Runtime])
		t.Run(s.Runtime, func(t *testing.T) {
			l := &Lab{Interval: 50 * time.Millisecond}
			events, unsubscribe := l.Subscribe()
			defer unsubscribe()
			_, err := l.Start(s)
			require.NoError(t, err)
			assert.Equal(t, s.row(), next(t, events, "started").Data.(map[string]any)["row"])
			next(t, events, "interval")
			require.NoError(t, l.Close())
			assert.Empty(t, proctest.Children(), "the %s server has exited", s.Runtime)
		})
	}
}

func TestSettingsAreCheckedByTheCommandsParsers(t *testing.T) {
	for _, tc := range []struct {
		s    Settings
		want string
	}{
		{Settings{Strategy: "threads", Runtime: RuntimeGo}, `strategy "threads": unknown scheduler`},
		{Settings{Strategy: "perconn; rm -rf /", Runtime: RuntimeGo}, `strategy "perconn; rm -rf /"`},
		{Settings{Strategy: "perconn", Runtime: "java"}, `runtime "java": give one of go, python, cpython, jvm`},
		{Settings{Strategy: "perconn", Runtime: RuntimePython, GIL: "-1ms"}, `switch interval "-1ms"`},
		{Settings{Strategy: "perconn", Runtime: RuntimePython, GIL: "1h"}, `switch interval "1h"`},
		{Settings{Strategy: "perconn", Runtime: RuntimeGo, Clients: 1000}, "clients 1000: from 1 to 64"},
		{Settings{Strategy: "perconn", Runtime: RuntimeGo, Long: "100000000"}, `long request "100000000": a whole number from 1 to 200000`},
		{Settings{Strategy: "perconn", Runtime: RuntimeGo, Small: "x"}, `small request "x"`},
		{Settings{Strategy: "perconn", Runtime: RuntimeGo, Task: "bogus"}, `task "bogus" is not a registered task`},
	} {
		_, _, err := tc.s.experiment()
		require.Error(t, err, "%+v", tc.s)
		assert.Contains(t, err.Error(), tc.want)
	}
	for _, p := range Presets {
		_, s, err := p.Run.experiment()
		require.NoError(t, err, p.ID)
		assert.NotEmpty(t, s.row(), p.ID)
	}
}
