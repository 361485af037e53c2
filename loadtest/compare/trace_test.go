package compare

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/internal/timeline"
)

func TestRunWritesATimelinePerRow(t *testing.T) {
	dir := t.TempDir()
	x := Experiment{
		Scenario:        shortScenario,
		Strategies:      []string{"perconn", "loop"},
		SwitchIntervals: []time.Duration{0, 2 * time.Millisecond},
		TraceDir:        dir,
	}
	_, pyErr := exec.LookPath("python3")
	x.CPython = pyErr == nil
	cmp, err := Run(proctest.Context(t), x)
	require.NoError(t, err)
	for _, row := range cmp.Rows {
		require.Equal(t, filepath.Join(dir, TraceFile(row.Label())), row.Trace, row.Label())
		tr, err := timeline.ReadTraceFile(row.Trace)
		require.NoError(t, err, row.Label())
		long := row.Long
		if long == "" {
			long = shortScenario.Long
		}
		_, anchored := tr.Anchor(long)
		assert.True(t, anchored, "%s: the long request is in its timeline", row.Label())
		require.NotNil(t, row.Timeline, row.Label())
		assert.Equal(t, row.GIL > 0 && row.Runtime == "", row.Timeline.Lock, "%s: the lock's figures in Python mode only", row.Label())
		assert.Equal(t, row.Strategy == "loop" && row.Runtime == "", row.Timeline.Loop, row.Label())
		if row.Runtime != "" {
			assert.NotEmpty(t, tr.Events, "the CPython server's steps")
			for _, e := range tr.Events {
				assert.Contains(t, []string{"request", "task"}, e.Cat)
			}
		}
	}
	if row := cmp.Rows[1]; row.Label() == "perconn gil=2ms" {
		assert.Positive(t, row.Timeline.LongHold, "the long request's thread held the lock")
	}
	assert.Equal(t, "loop+goroutines_2-cpython-si=5ms.json", TraceFile("loop+goroutines:2 cpython si=5ms"))
}

func TestRunRefusesATraceDirThatIsNot(t *testing.T) {
	_, err := Run(proctest.Context(t), Experiment{Scenario: shortScenario, TraceDir: filepath.Join(t.TempDir(), "missing")})
	assert.ErrorContains(t, err, "TraceDir")
	assert.ErrorContains(t, err, "is not a directory")
}
