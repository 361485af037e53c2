//go:build unix

package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/internal/timeline"
)

// readTraceFile reads and checks the trace in path.
func readTraceFile(t *testing.T, path string) *timeline.Trace {
	t.Helper()
	tr, err := timeline.ReadTraceFile(path)
	require.NoError(t, err)
	return tr
}

func TestServeWritesItsTraceOnSIGUSR1AndOnExit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.json")
	addr, stop, code, logs := startServeLogs(t, "-strategy", "perconn", "-gil", "5ms", "-trace", path, "-trace-anchor", "100")
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	br := bufio.NewReader(c)
	ask := func(n string) string {
		_, err := io.WriteString(c, n+"\n")
		require.NoError(t, err)
		c.SetReadDeadline(time.Now().Add(testkit.Bound))
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		return line
	}
	assert.Equal(t, "29\n", ask("10"))
	assert.Equal(t, "541\n", ask("100"))

	// SIGUSR1 writes it while the server goes on, and says so.
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGUSR1))
	written := false
	for !written {
		select {
		case line, ok := <-logs:
			require.True(t, ok, "serve ended")
			written = strings.Contains(line, "trace written")
		case <-time.After(testkit.Bound):
			t.Fatal("no trace written after SIGUSR1")
		}
	}
	tr := readTraceFile(t, path)
	_, anchored := tr.Anchor("100")
	assert.True(t, anchored)
	require.NoError(t, os.Remove(path))

	stop()
	assert.Equal(t, 0, exitCode(t, code))
	tr = readTraceFile(t, path)
	assert.Equal(t, "perconn gil=5ms", tr.Processes[os.Getpid()])
	holds := 0
	for _, e := range tr.Events {
		if e.Cat == "gil" && e.Name == "hold" && e.Arg("request") == "100" {
			holds++
		}
	}
	assert.Positive(t, holds, "the lock's holds are recorded")
}
