package jvm

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/strategy"
)

func TestMain(m *testing.M) {
	primetime.MaybeWorker() // a pinned server starts as this test binary
	goleak.VerifyTestMain(m)
}

// java returns the java to test with; without one, the test is skipped,
// unless CI says every tool is there.
func java(t *testing.T) string {
	t.Helper()
	j, err := Find("")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return j
}

func TestTheJavaServerAnswersAsTheGoServerDoes(t *testing.T) {
	j := java(t)
	for _, task := range []string{"prime", "sha256"} {
		t.Run(task, func(t *testing.T) {
			s, err := Start(j, []string{"threads"}, Options{Task: task})
			require.NoError(t, err)
			c := testkit.Dial(t, s.Addr)
			goTask, _ := primetime.Lookup(task)
			for _, n := range []string{"1", "10", "3"} {
				want, err := goTask.Run(context.Background(), []byte(n))
				require.NoError(t, err)
				assert.Equal(t, string(want), c.Ask(n), "%s of %s", task, n)
			}
			assert.True(t, strings.HasPrefix(c.Ask("ten"), "ERR bad request"), "a bad request is refused")
			assert.True(t, strings.HasPrefix(c.Ask("0"), "ERR bad request"))
			want, _ := goTask.Run(context.Background(), []byte("2"))
			assert.Equal(t, string(want), c.Ask("2"), "and the connection goes on")
			c.Conn().Close()
			require.NoError(t, s.Stop(), "it stops when its stdin closes, as when its parent goes")
			assert.Empty(t, proctest.Children(), "the JVM has exited")
		})
	}
}

func TestShapesMapTheJavaCounterparts(t *testing.T) {
	for text, want := range map[string][]string{"perconn": {"threads"}, "pool:8": {"threadpool", "8"}} {
		s, err := strategy.Parse(text)
		require.NoError(t, err)
		got, ok := Shape(strategy.Describe(s), false)
		assert.True(t, ok, text)
		assert.Equal(t, want, got, text)
	}
	got, ok := Shape(strategy.Describe(strategy.PerConn()), true)
	assert.True(t, ok)
	assert.Equal(t, []string{"virtual"}, got, "a virtual thread per connection")
	_, ok = Shape(strategy.Describe(strategy.Pool(8)), true)
	assert.False(t, ok, "a pool of virtual threads is not a shape of the lecture")
	for _, text := range []string{"loop", "serial", "procpool:2", "perconn+goroutines:2"} {
		s, err := strategy.Parse(text)
		require.NoError(t, err)
		_, ok := Shape(strategy.Describe(s), false)
		assert.False(t, ok, "%s has no Java counterpart here", text)
	}
}

func TestMajorReadsTheRelease(t *testing.T) {
	for line, want := range map[string]int{
		`openjdk version "17.0.15" 2025-04-15`: 17,
		`openjdk version "21" 2023-09-19`:      21,
		`java version "1.8.0_392"`:             8,
		`openjdk version "22-ea" 2024-03-19`:   22,
		`no version here`:                      0,
		`openjdk version "x.1"`:                0,
	} {
		assert.Equal(t, want, Major(line), line)
	}
}

func TestTheServerSaysWhenItHasNoVirtualThreads(t *testing.T) {
	j := java(t)
	version, err := Version(j)
	require.NoError(t, err)
	var stderr strings.Builder
	s, err := Start(j, []string{"virtual"}, Options{Stderr: &stderr})
	if Major(version) >= VirtualThreads {
		require.NoError(t, err)
		c := testkit.Dial(t, s.Addr)
		assert.Equal(t, "2", c.Ask("1"), "a virtual thread per connection answers")
		c.Conn().Close()
		require.NoError(t, s.Stop())
		return
	}
	require.Error(t, err, "%s has no virtual threads", version)
	assert.Contains(t, stderr.String(), "virtual threads need Java 21 or later")
	assert.Empty(t, proctest.Children(), "the JVM has exited")
}

func TestNthTimeTimesTheJavaAlgorithm(t *testing.T) {
	d, err := NthTime(java(t), 500)
	require.NoError(t, err)
	assert.Positive(t, d)
}

func TestTheJavaServerLogsEachRequestsSteps(t *testing.T) {
	j := java(t)
	trace := t.TempDir() + "/jvm.json"
	s, err := Start(j, []string{"threadpool", "2"}, Options{Trace: trace, Label: "perconn jvm", Long: "300", Before: time.Hour, After: time.Hour})
	require.NoError(t, err)
	c := testkit.Dial(t, s.Addr)
	for _, n := range []string{"1", "300", "2"} {
		c.Ask(n)
	}
	c.Conn().Close()
	require.NoError(t, s.Stop())
	tr, err := timeline.ReadTraceFile(trace)
	require.NoError(t, err)
	var requests, tasks int
	for _, e := range tr.Events {
		switch e.Cat {
		case "request":
			requests++
		case "task":
			tasks++
		}
	}
	assert.Equal(t, 3, requests, "a span from each request's arrival to its answer")
	assert.Equal(t, 3, tasks, "and one while each was computed")
}
