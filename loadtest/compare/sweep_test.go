package compare

import (
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/jvm"
	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/loadtest"
)

func TestASweepRunsEveryRowAtEveryPoint(t *testing.T) {
	p, err := Experiment{Scenario: shortScenario, Strategies: []string{"perconn", "loop"},
		Sweeps: []loadtest.Sweep{{Name: "clients", Values: []string{"1", "4"}}}}.Plan()
	require.NoError(t, err)
	assert.Equal(t, []string{"perconn [clients=1]", "loop [clients=1]", "perconn [clients=4]", "loop [clients=4]"}, p.Rows)
	assert.Equal(t, 4, p.Runs)
}

func TestTwoSweepsMakeAGrid(t *testing.T) {
	p, err := Experiment{Scenario: shortScenario, Strategies: []string{"perconn"}, Count: 2,
		Sweeps: []loadtest.Sweep{{Name: "longs", Values: []string{"0", "1"}}, {Name: "gil", Values: []string{"5ms", "100us"}}}}.Plan()
	require.NoError(t, err)
	assert.Equal(t, []string{
		"perconn gil=5ms [longs=0 gil=5ms]", "perconn gil=100µs [longs=0 gil=100µs]",
		"perconn gil=5ms [longs=1 gil=5ms]", "perconn gil=100µs [longs=1 gil=100µs]",
	}, p.Rows, "a gil point has Python-mode rows only, at its interval")
	assert.Equal(t, 8, p.Runs, "Count at every point")
}

func TestSweepsRefuseWhatTheyCannotRun(t *testing.T) {
	for sweeps, want := range map[*[]loadtest.Sweep]string{
		{{Name: "colour", Values: []string{"red"}}}:                                      `"colour" is not a setting to sweep`,
		{{Name: "clients", Values: []string{"0"}}}:                                       `clients="0": want a whole number of at least 1`,
		{{Name: "gil", Values: []string{"-5ms"}}}:                                        `gil="-5ms": want a positive switch interval`,
		{{Name: "rate", Values: []string{"fast"}}}:                                       `rate="fast"`,
		{{Name: "longs", Values: []string{"1", "1"}}}:                                    "longs has 1 twice",
		{{Name: "longs", Values: nil}}:                                                   "longs has no values",
		{{Name: "longs", Values: []string{"1"}}, {Name: "longs", Values: []string{"2"}}}: "sweeps longs twice",
		{{Name: "longs", Values: []string{"1"}}, {Name: "gil", Values: []string{"1ms"}}, {Name: "clients", Values: []string{"2"}}}: "at most 2",
	} {
		_, err := Experiment{Scenario: shortScenario, Strategies: []string{"perconn"}, Sweeps: *sweeps}.Plan()
		var fe *loadtest.FieldError
		require.ErrorAs(t, err, &fe, want)
		assert.Equal(t, "Sweeps", fe.Field)
		assert.ErrorContains(t, err, want)
	}
}

func TestASweepsRowsSayTheirPointAndRunInterleaved(t *testing.T) {
	sc := shortScenario
	sc.LongAfter, sc.Duration = -1, 200*time.Millisecond
	cmp, err := Run(proctest.Context(t), Experiment{Scenario: sc, Strategies: []string{"perconn"}, InProcess: true, Count: 2,
		Sweeps: []loadtest.Sweep{{Name: "clients", Values: []string{"1", "2"}}}})
	require.NoError(t, err)
	var order []string
	for _, res := range cmp.Results {
		order = append(order, res.Name())
	}
	assert.Equal(t, []string{"perconn [clients=1] #1", "perconn [clients=2] #1", "perconn [clients=1] #2", "perconn [clients=2] #2"}, order)
	require.Len(t, cmp.Rows, 2)
	assert.Equal(t, []loadtest.Setting{{Name: "clients", Value: "1"}}, cmp.Rows[0].Point)
	assert.Equal(t, "clients=2", cmp.Rows[1].PointLabel())
	assert.Equal(t, 2, cmp.Results[1].Scenario.Clients, "the point's setting is the run's")
	assert.Equal(t, []loadtest.Sweep{{Name: "clients", Values: []string{"1", "2"}}}, cmp.Sweeps)
}

func TestAServerRunsOnTheCPUsAsked(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU affinity is Linux's")
	}
	sc := shortScenario
	sc.LongAfter, sc.Duration = -1, 200*time.Millisecond
	cmp, err := Run(proctest.Context(t), Experiment{Scenario: sc, Strategies: []string{"perconn"}, CPUs: 1})
	require.NoError(t, err)
	require.Len(t, cmp.Rows, 1)
	assert.Equal(t, 1, cmp.Rows[0].CPUs)
	assert.Equal(t, 1, cmp.Rows[0].MaxProcs, "GOMAXPROCS follows the CPUs")
	assert.Positive(t, cmp.Rows[0].Before)

	_, err = Run(proctest.Context(t), Experiment{Scenario: sc, Strategies: []string{"perconn"}, CPUs: runtime.NumCPU() + 1})
	assert.ErrorContains(t, err, "CPUs asked, and this machine lets this program run on")
	_, err = Run(proctest.Context(t), Experiment{Scenario: sc, Strategies: []string{"perconn"}, CPUs: 1, InProcess: true})
	assert.ErrorContains(t, err, "CPUs needs servers in child processes")
}

func TestGoServersRunWithoutAsyncPreemptionWhenAsked(t *testing.T) {
	t.Setenv("GODEBUG", "")
	assert.Equal(t, []string{envConfig + "={}", "GODEBUG=asyncpreemptoff=1"}, childEnv(childConfig{NoAsyncPreempt: true}, "{}"))
	assert.Equal(t, []string{envConfig + "={}"}, childEnv(childConfig{}, "{}"))
	t.Setenv("GODEBUG", "gctrace=1")
	assert.Contains(t, childEnv(childConfig{NoAsyncPreempt: true}, "{}"), "GODEBUG=gctrace=1,asyncpreemptoff=1", "the parent's settings kept")
	for v, ok := range map[string]bool{"async": true, "off": true, "on": false, "": false} {
		_, err := sweepValue("preempt", v)
		assert.Equal(t, ok, err == nil, v)
	}
}

func TestTheJVMRowsServeBesideTheGoRows(t *testing.T) {
	if _, err := jvm.Find(""); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	sc := shortScenario
	cmp, err := Run(proctest.Context(t), Experiment{Scenario: sc, Strategies: []string{"perconn", "pool:2", "loop"}, JVM: true})
	require.NoError(t, err)
	var labels []string
	for _, r := range cmp.Rows {
		labels = append(labels, r.Label())
		assert.Zero(t, r.Errors, "%s: every answer checked and right", r.Label())
		assert.Positive(t, r.Before, r.Label())
	}
	want := []string{"perconn", "perconn jvm", "pool:2", "pool:2 jvm", "loop"}
	if jvm.Major(cmp.Java) >= jvm.VirtualThreads {
		want = slices.Insert(want, 2, "perconn jvm-virtual")
		assert.Empty(t, cmp.Left)
	} else {
		assert.Equal(t, []string{"no jvm-virtual rows: virtual threads need Java 21 or later, and the JVM rows' java is " + cmp.Java}, cmp.Left, "the comparison says why it has no virtual threads")
	}
	assert.Equal(t, want, labels, "a JVM row beside each strategy the JVM has")
	assert.Contains(t, cmp.Java, "version")
	assert.Equal(t, "jvm", cmp.Rows[1].Runtime)
	require.NotEmpty(t, cmp.Claims)
	assert.Equal(t, loadtest.ClaimJava, cmp.Claims[0].Said, "the JVM rows check the lecture's claim about Java")
}
