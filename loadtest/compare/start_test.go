package compare

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/loadtest"
)

func TestStartStartsOneRowsServerAndWritesItsTimelineWhenAsked(t *testing.T) {
	x := Experiment{Strategies: []string{"perconn"}, SwitchIntervals: []time.Duration{5 * time.Millisecond}, TraceDir: t.TempDir(),
		Scenario: loadtest.Scenario{Long: "3000"}}
	_, err := x.Start(proctest.Context(t), "loop")
	assert.ErrorContains(t, err, `the experiment has no row "loop": it has perconn gil=5ms`)

	srv, err := x.Start(proctest.Context(t), "perconn gil=5ms")
	require.NoError(t, err)
	assert.Equal(t, "perconn gil=5ms", srv.Row.Label())
	assert.Equal(t, "3000", srv.Long)
	c := testkit.Dial(t, srv.Addr)
	var anchors []float64
	for range 2 {
		assert.Equal(t, "27449", c.Ask(srv.Long))
		path, err := srv.Trace()
		require.NoError(t, err)
		tr, err := timeline.ReadTraceFile(path)
		require.NoError(t, err)
		at, ok := tr.Anchor(srv.Long)
		require.True(t, ok, "the timeline is anchored on the long request")
		anchors = append(anchors, at)
		figures := tr.Figures(srv.Long)
		assert.True(t, figures.Lock, "Python mode's lock is in the window")
		assert.Positive(t, figures.LongHold, "and the long request's thread holding it")
	}
	assert.Less(t, anchors[0], anchors[1], "each long request opens a window of its own")
	c.Conn().Close()
	require.NoError(t, srv.Stop())
	assert.Empty(t, proctest.Children())

	noTrace, err := Experiment{Strategies: []string{"perconn"}}.Start(proctest.Context(t), "perconn")
	require.NoError(t, err)
	_, err = noTrace.Trace()
	assert.ErrorContains(t, err, "records no timeline")
	require.NoError(t, noTrace.Stop())
}
