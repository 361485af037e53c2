package compare

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/strategy"
)

// shortScenario is the lecture's scenario, shrunk for tests: a long request
// of a few milliseconds in a run of half a second.
var shortScenario = loadtest.Scenario{Clients: 2, Long: "1500", LongAfter: 100 * time.Millisecond, Duration: 500 * time.Millisecond, Interval: 50 * time.Millisecond}

// recorder is a Progress that remembers what it was told.
type recorder struct{ log []string }

func (r *recorder) Start(s string, sc loadtest.Scenario) {
	r.log = append(r.log, "start "+s+" reconnect="+strconv.FormatBool(sc.Reconnect))
}
func (r *recorder) Interval(s string, iv loadtest.Interval, _ []loadtest.Event) {}
func (r *recorder) Done(s string, res *loadtest.Result, err error)              { r.log = append(r.log, "done "+s) }

func TestRunInProcess(t *testing.T) {
	rec := &recorder{}
	cmp, err := Run(proctest.Context(t), Experiment{
		Scenario:   shortScenario,
		Strategies: []string{"serial", "perconn", "loop+goroutines:2"},
		InProcess:  true,
		Progress:   rec,
	})
	require.NoError(t, err)
	require.Len(t, cmp.Rows, 3)
	require.Len(t, cmp.Results, 3)
	assert.Equal(t, []string{
		"start serial reconnect=true", "done serial",
		"start perconn reconnect=false", "done perconn",
		"start loop+goroutines:2 reconnect=false", "done loop+goroutines:2",
	}, rec.log, "Serial gets a new connection per request; the others do not")
	for i, row := range cmp.Rows {
		assert.Equal(t, cmp.Results[i].Summary.Kept, row.Kept)
		assert.True(t, row.LongAnswered, row.Strategy)
		assert.Positive(t, row.Before, row.Strategy)
		assert.Zero(t, row.Errors, row.Strategy)
	}
	// Little's law may add that the clients spent time connecting.
	assert.True(t, strings.HasPrefix(cmp.Rows[0].Note, "a new connection per request"), cmp.Rows[0].Note)

	var buf bytes.Buffer
	require.NoError(t, cmp.WriteJSON(&buf))
	back, err := loadtest.ReadComparisonJSON(&buf)
	require.NoError(t, err)
	assert.Equal(t, cmp.Rows, back.Rows)
}

func TestRunSaysWhenSerialNeverAcceptsTheLongRequest(t *testing.T) {
	cmp, err := Run(proctest.Context(t), Experiment{
		Scenario:              shortScenario,
		Strategies:            []string{"serial"},
		InProcess:             true,
		KeepSerialConnections: true,
	})
	require.NoError(t, err)
	row := cmp.Rows[0]
	assert.False(t, row.LongAnswered)
	// A loaded machine may add Little's law's note to what a run says.
	assert.True(t, strings.HasPrefix(row.Note, "long request never answered: with persistent connections Serial never accepts its connection; 1 of the 2 clients got no answer before the long request"), row.Note)
}

func TestRunRunsEachServerInAChildProcess(t *testing.T) {
	if !proctest.Available() {
		t.Skip("needs /proc")
	}
	var stderr bytes.Buffer
	cmp, err := Run(proctest.Context(t), Experiment{
		Scenario:   shortScenario,
		Strategies: []string{"loop", "procpool:1"},
		Stderr:     &stderr,
	})
	require.NoError(t, err, stderr.String())
	require.Len(t, cmp.Rows, 2)
	for _, row := range cmp.Rows {
		assert.True(t, row.LongAnswered, row.Strategy)
		assert.Positive(t, row.Before, row.Strategy)
	}
	assert.Empty(t, proctest.Children(), "every server process, and its workers, have exited")
	assert.Empty(t, stderr.String())
}

func TestRunMeasuresIdleConnections(t *testing.T) {
	if !proctest.Available() {
		t.Skip("needs /proc")
	}
	cmp, err := Run(proctest.Context(t), Experiment{
		Scenario:   shortScenario,
		Strategies: []string{"perconn", "loop", "pool:8", "serial"},
		Idle:       1000,
	})
	require.NoError(t, err)
	require.Len(t, cmp.Rows, 4)
	assert.Equal(t, 1000, cmp.Idle)
	perconn, loop, pool, serial := cmp.Rows[0], cmp.Rows[1], cmp.Rows[2], cmp.Rows[3]
	assert.Greater(t, perconn.IdleBytes, loop.IdleBytes, "a goroutine's stack per connection, against the loop's few hundred bytes")
	assert.Positive(t, pool.IdleBytes, "a pool's queued connections are measured too")
	assert.Zero(t, serial.IdleBytes, "Serial cannot hold idle connections")
	for _, row := range cmp.Rows {
		assert.True(t, row.LongAnswered, "the run after the idle connections is whole: %s", row.Strategy)
		assert.Zero(t, row.Errors, row.Strategy)
	}
	var buf bytes.Buffer
	require.NoError(t, cmp.WriteJSON(&buf))
	assert.Contains(t, buf.String(), `"idle_bytes_per_conn": `)
}

func TestRunRunsTheLecturesServerUnderCPython(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("needs python3:", err)
	}
	cmp, err := Run(proctest.Context(t), Experiment{
		Scenario:        shortScenario,
		Strategies:      []string{"perconn", "loop+goroutines:2"},
		SwitchIntervals: []time.Duration{0, 2 * time.Millisecond},
		CPython:         true,
	})
	require.NoError(t, err)
	var labels []string
	for _, row := range cmp.Rows {
		labels = append(labels, row.Label())
		assert.True(t, row.LongAnswered, row.Label())
		assert.Positive(t, row.Before, row.Label())
		assert.Zero(t, row.Errors, row.Label())
	}
	assert.Equal(t, []string{
		"perconn", "perconn gil=2ms", "perconn cpython si=2ms",
		"loop+goroutines:2", "loop+goroutines:2 gil=2ms", "loop+goroutines:2 cpython si=2ms",
	}, labels)
	py := cmp.Rows[2]
	assert.Equal(t, "cpython", py.Runtime)
	n, err := strconv.Atoi(py.Long)
	require.NoError(t, err, "the CPython rows' long request is scaled")
	assert.Less(t, n, 1500, "CPython's prime is slower, so its n is smaller")
	assert.True(t, strings.HasPrefix(py.Note, "long request n="+py.Long+", as long as Go's 1500"), py.Note)
	assert.Contains(t, cmp.Python, "Python 3.")
	assert.Empty(t, proctest.Children(), "every server process, and its workers, have exited")
}

func TestRunRefusesBadInputBeforeRunning(t *testing.T) {
	_, err := Run(proctest.Context(t), Experiment{Scenario: shortScenario, Strategies: []string{"perconn", "threads"}})
	assert.ErrorContains(t, err, `unknown scheduler "threads"`)
	_, err = Run(proctest.Context(t), Experiment{Scenario: loadtest.Scenario{Clients: -2}})
	assert.ErrorContains(t, err, "Clients is -2")
	_, err = Run(proctest.Context(t), Experiment{Scenario: shortScenario, InProcess: true, MaxProcs: 1})
	assert.ErrorContains(t, err, "MaxProcs needs servers in child processes")
	_, err = Run(proctest.Context(t), Experiment{Scenario: shortScenario, InProcess: true, Idle: 10})
	assert.ErrorContains(t, err, "Idle needs servers in child processes")
	_, err = Run(proctest.Context(t), Experiment{Scenario: shortScenario, Idle: -1})
	assert.ErrorContains(t, err, "Idle is -1")
	_, err = Run(proctest.Context(t), Experiment{Scenario: shortScenario, MaxProcs: -1})
	assert.ErrorContains(t, err, "MaxProcs is -1")
	_, err = Run(proctest.Context(t), Experiment{Scenario: shortScenario, Strategies: []string{"perconn"}, SwitchIntervals: []time.Duration{0, 5 * time.Millisecond, 5 * time.Millisecond}})
	assert.ErrorContains(t, err, "SwitchIntervals has 5ms twice")
	_, err = Run(proctest.Context(t), Experiment{Scenario: shortScenario, Strategies: []string{}})
	assert.ErrorContains(t, err, "Strategies is empty")
	cmp, err := Run(proctest.Context(t), Experiment{Scenario: shortScenario, Strategies: []string{"perconn"}, Task: "no-such-task"})
	assert.ErrorContains(t, err, `task "no-such-task" is not registered`)
	assert.Nil(t, cmp, "nothing ran")
}

func TestRunRunsEveryRowOnceThenAgain(t *testing.T) {
	rec := &recorder{}
	cmp, err := Run(proctest.Context(t), Experiment{
		Scenario:   shortScenario,
		Strategies: []string{"perconn", "loop"},
		InProcess:  true,
		Count:      2,
		Progress:   rec,
	})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"start perconn reconnect=false", "done perconn", "start loop reconnect=false", "done loop",
		"start perconn reconnect=false", "done perconn", "start loop reconnect=false", "done loop",
	}, rec.log)
	require.Len(t, cmp.Rows, 2)
	require.Len(t, cmp.Results, 4, "every run is kept")
	assert.Equal(t, []string{"perconn #1", "loop #1", "perconn #2", "loop #2"},
		[]string{cmp.Results[0].Name(), cmp.Results[1].Name(), cmp.Results[2].Name(), cmp.Results[3].Name()})
	for _, row := range cmp.Rows {
		assert.Equal(t, 2, row.Runs)
		assert.Len(t, row.Samples.Before, 2)
		assert.LessOrEqual(t, row.BeforeRange[0], row.Before)
		assert.GreaterOrEqual(t, row.BeforeRange[1], row.Before)
	}
	require.NotNil(t, cmp.Rows[1].Significance)
	assert.Equal(t, "perconn", cmp.Rows[1].Significance.Against)
	_, err = Run(proctest.Context(t), Experiment{Scenario: shortScenario, Count: -1})
	assert.ErrorContains(t, err, "Count is -1")
}

func TestARowSaysWhyItHasNoKept(t *testing.T) {
	res := &loadtest.Result{Scenario: shortScenario, Summary: loadtest.Summary{LongSent: true, LongRefused: true,
		LongAnswer: "ERR bad request", KeptMissing: "the long request was refused"}}
	row := rowOf(strategy.PerConn(), res)
	assert.True(t, strings.HasPrefix(row.Note, "long request refused: ERR bad request"), row.Note)
	assert.Equal(t, "the long request was refused", row.KeptMissing)
}

func TestPlanSaysWhatRunsBeforeAnythingRuns(t *testing.T) {
	p, err := Experiment{Scenario: loadtest.Scenario{Clients: 0, Duration: 3 * time.Second}, Strategies: []string{"perconn", "loop"},
		SwitchIntervals: []time.Duration{0, 5 * time.Millisecond}, Count: 2}.Plan()
	require.NoError(t, err)
	assert.Equal(t, loadtest.DefaultClients, p.Scenario.Clients, "a zero field is its default, said")
	assert.Equal(t, time.Second, p.Scenario.LongAfter, "scaled to a short run")
	assert.Equal(t, []string{"perconn", "perconn gil=5ms", "loop", "loop gil=5ms"}, p.Rows)
	assert.Equal(t, 8, p.Runs)
}

func TestARowSaysWhenLittlesLawIsOff(t *testing.T) {
	s, err := strategy.Parse("perconn")
	require.NoError(t, err)
	res := func(inFlight float64, rate float64) *loadtest.Result {
		return &loadtest.Result{Scenario: loadtest.Scenario{Clients: 4, Rate: rate, LongAfter: -1},
			Summary: loadtest.Summary{Answers: 1000, InFlight: inFlight, AnsweredClients: 4}}
	}
	assert.Contains(t, rowOf(s, res(2.1, 0)).Note, "Little's law: 2.1 small requests in flight on average for 4 clients answered: the generator kept its clients idle")
	stuck := res(1, 0)
	stuck.Summary.AnsweredClients = 1
	assert.Equal(t, "no long request; 3 of the 4 clients got no answer before the long request", rowOf(s, stuck).Note, "the others' requests wait in the server")
	assert.NotContains(t, rowOf(s, res(3.7, 0)).Note, "Little's law", "within 10%")
	assert.NotContains(t, rowOf(s, res(0.5, 1000)).Note, "Little's law", "open loop: no such rule")
}

func TestARowWhoseNATSServerWasUnreachableIsInterrupted(t *testing.T) {
	s, err := strategy.Parse("loop+nats:2")
	require.NoError(t, err)
	res := &loadtest.Result{Scenario: loadtest.Scenario{Clients: 4, LongAfter: -1}, Summary: loadtest.Summary{Answers: 1000, InFlight: 4, AnsweredClients: 4},
		Events: []loadtest.Event{
			{Kind: loadtest.FirstError, Detail: "err-answer: ERR NATS server unreachable: the connection to the NATS server at nats://127.0.0.1:4222 was lost during the task"},
			{Kind: loadtest.FirstError, Detail: "closed: NATS server unreachable"},
		}}
	row := rowOf(s, res)
	assert.True(t, row.Interrupted)
	assert.Equal(t, "interrupted: the NATS server was unreachable during the run; run it again; no long request", row.Note)
	res.Events = res.Events[:0]
	assert.False(t, rowOf(s, res).Interrupted)
}

func TestAFreeThreadedPythonsRowsSayTheyRunWithoutTheLock(t *testing.T) {
	real, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("needs python3:", err)
	}
	// A python3 that answers the probe as a free-threaded build does.
	fake := filepath.Join(t.TempDir(), "python3t")
	script := "#!/bin/sh\ncase \"$2\" in *Py_GIL_DISABLED*) echo '1 0'; exit 0;; esac\nexec " + real + " \"$@\"\n"
	require.NoError(t, os.WriteFile(fake, []byte(script), 0o755))
	p, err := Experiment{Scenario: shortScenario, Strategies: []string{"perconn"}, CPython: true, Python: fake}.Plan()
	require.NoError(t, err)
	assert.Equal(t, []string{"perconn", "perconn cpython-nogil"}, p.Rows)
	assert.Contains(t, p.Python, "free-threaded, without the GIL")
}
