package loadtest_test

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/loadtest"
)

// startService starts a service of testdata/services, tool and args its
// command, with env added to its environment, and returns its URL once it
// says it listens; it is stopped, and waited for, when the test ends. A
// service that ends first fails the test with what it printed.
func startService(t *testing.T, env []string, tool string, args ...string) string {
	t.Helper()
	cmd := exec.Command(proctest.Tool(t, tool), args...)
	cmd.Dir = "testdata/services"
	cmd.Env = append(os.Environ(), env...)
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
			t.Errorf("%s %v: %v: %s", tool, args, err, stderr.String())
		}
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if url, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
			return url
		}
	}
	t.Fatalf("%s %v ended before it listened: %s", tool, args, stderr.String())
	return ""
}

// TestServicesOfOtherStacksAreMeasured runs the experiment against
// services whose stack nobody here wrote: a thread per request under
// CPython's GIL, and Node's event loop, each with a fast and a CPU-bound
// handler.
func TestServicesOfOtherStacksAreMeasured(t *testing.T) {
	for _, s := range []struct {
		name string
		env  []string
		argv []string
	}{
		{"net/http at one CPU", []string{"GOMAXPROCS=1"}, []string{"go", "run", "nethttp_server.go"}},
		{"ThreadingHTTPServer", nil, []string{"python3", "threading_server.py"}},
		{"node", nil, []string{"node", "node_server.js"}},
	} {
		t.Run(s.name, func(t *testing.T) {
			url := startService(t, s.env, s.argv[0], s.argv[1:]...)
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
