package loadtest_test

import (
	"bufio"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/loadtest"
)

// startService starts a service of testdata/services with the program
// tool, and returns its URL once it says it listens; it is stopped, and
// waited for, when the test ends. A service that ends first fails the
// test with what it printed.
func startService(t *testing.T, tool, script string) string {
	t.Helper()
	cmd := exec.Command(proctest.Tool(t, tool), "testdata/services/"+script)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stdin.Close() // it ends when its stdin closes
		io.Copy(io.Discard, stdout)
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s %s: %v: %s", tool, script, err, stderr.String())
		}
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if url, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
			return url
		}
	}
	t.Fatalf("%s %s ended before it listened: %s", tool, script, stderr.String())
	return ""
}

// TestServicesOfOtherStacksAreMeasured runs the experiment against
// services whose stack nobody here wrote: a thread per request under
// CPython's GIL, and Node's event loop, each with a fast and a CPU-bound
// handler.
func TestServicesOfOtherStacksAreMeasured(t *testing.T) {
	for _, s := range []struct{ tool, script string }{{"python3", "threading_server.py"}, {"node", "node_server.js"}} {
		t.Run(s.tool, func(t *testing.T) {
			url := startService(t, s.tool, s.script)
			sc := loadtest.Scenario{Clients: 2, Duration: time.Second, LongAfter: 300 * time.Millisecond, Interval: 100 * time.Millisecond,
				Target: &loadtest.HTTPTarget{Small: loadtest.HTTPRequest{URL: url + "/fast"}, Long: loadtest.HTTPRequest{URL: url + "/slow?n=300000"}, Expect: "^(ok|[0-9]+)$"}}
			res, err := loadtest.Run(proctest.Context(t), sc, nil)
			require.NoError(t, err)
			sum := res.Summary
			assert.True(t, sum.LongAnswered, "the CPU-bound request was answered: %s", sum.LongError)
			assert.Equal(t, "899997", sum.LongAnswer, "the sum of i %% 7 below 300,000")
			assert.Zero(t, sum.Errors, "%v", sum.ErrorsByKind)
			assert.Positive(t, sum.Answers)
		})
	}
}
