package cpython

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/internal/wire"
	"github.com/primetime-lab/primetime/strategy"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func python(t *testing.T) string {
	t.Helper()
	p, err := Find("")
	if err != nil {
		t.Skip(err)
	}
	return p
}

// describe returns what the strategy named text is made of.
func describe(t *testing.T, text string) strategy.Description {
	s, err := strategy.Parse(text)
	require.NoError(t, err)
	return strategy.Describe(s)
}

// writeScript writes the embedded script to a file of the test's, and
// returns its path.
func writeScript(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "lecture_server.py")
	require.NoError(t, os.WriteFile(path, script, 0o644))
	return path
}

// ask sends line and returns the answer line.
func ask(t *testing.T, c net.Conn, br *bufio.Reader, line string) string {
	t.Helper()
	_, err := io.WriteString(c, line+"\n")
	require.NoError(t, err)
	c.SetReadDeadline(time.Now().Add(testkit.Bound))
	answer, err := br.ReadString('\n')
	require.NoError(t, err)
	return strings.TrimSuffix(answer, "\n")
}

func TestTheLecturesServerAnswersAsTheGoServerDoes(t *testing.T) {
	py := python(t)
	for _, text := range []string{"serial", "perconn", "pool:2", "procpool:2", "loop", "loop+goroutines:2", "loop+procs:2"} {
		t.Run(text, func(t *testing.T) {
			shape, ok := Shape(describe(t, text))
			require.True(t, ok)
			s, err := Start(py, shape, Options{SwitchInterval: 5 * time.Millisecond})
			require.NoError(t, err)
			defer func() {
				require.NoError(t, s.Stop())
				assert.Empty(t, proctest.Children(), "the server and its workers have exited")
			}()
			c, err := net.Dial("tcp", s.Addr)
			require.NoError(t, err)
			defer c.Close()
			br := bufio.NewReader(c)
			assert.Equal(t, "29", ask(t, c, br, "10"))
			assert.Equal(t, "541", ask(t, c, br, "100\r"), "a CRLF line ending is accepted")
			for _, bad := range []string{"abc", "", "-3", "0", "1000001"} {
				assert.True(t, strings.HasPrefix(ask(t, c, br, bad), "ERR bad request: "), "request %q", bad)
			}
			assert.Equal(t, "2", ask(t, c, br, "1"), "the connection is still usable")
			assert.Equal(t, "ERR request line too long: the limit is 4096 bytes", ask(t, c, br, strings.Repeat("1", 5000)))
			_, err = br.ReadString('\n')
			assert.Error(t, err, "the connection is closed after an over-long line")
		})
	}
}

func TestTheLecturesServerSpeaksRecv(t *testing.T) {
	py := python(t)
	for _, text := range []string{"perconn", "loop"} {
		t.Run(text, func(t *testing.T) {
			shape, _ := Shape(describe(t, text))
			s, err := Start(py, shape, Options{SwitchInterval: 5 * time.Millisecond, Protocol: "recv"})
			require.NoError(t, err)
			defer s.Stop()
			c, err := net.Dial("tcp", s.Addr)
			require.NoError(t, err)
			defer c.Close()
			buf := make([]byte, 100)
			for msg, want := range map[string]string{"10": "29\n", "100": "541\n", "abc": "ERR bad request: want a positive integer n, got \"abc\"\n"} {
				_, err := io.WriteString(c, msg)
				require.NoError(t, err)
				c.SetReadDeadline(time.Now().Add(testkit.Bound))
				n, err := c.Read(buf)
				require.NoError(t, err)
				assert.Equal(t, want, string(buf[:n]))
			}
		})
	}
}

func TestShapesMapTheLecturesCounterparts(t *testing.T) {
	for text, want := range map[string]string{
		"serial": "serial", "perconn": "threads", "pool:8": "threadpool 8", "procpool:2": "procpool 2",
		"perconn+procs:2": "procpool 2", "loop": "asyncio", "loop+goroutines:4": "asyncio-threads 4", "loop+procs:2": "asyncio-procs 2",
		"procpool": "procpool " + strconv.Itoa(runtime.NumCPU()),
	} {
		shape, ok := Shape(describe(t, text))
		assert.True(t, ok, text)
		assert.Equal(t, want, strings.Join(shape, " "), text)
	}
	for _, text := range []string{"pool:8+goroutines:2", "loops:2", "serial+goroutines:2"} {
		_, ok := Shape(describe(t, text))
		assert.False(t, ok, "%s has no lecture counterpart", text)
	}
}

func TestSpeaksTheProtocolsTheScriptTakes(t *testing.T) {
	out, err := exec.Command(python(t), writeScript(t), "--help").Output()
	require.NoError(t, err)
	for _, p := range wire.Protocols() {
		assert.Equal(t, strings.Contains(string(out), string(p)), Speaks(p), "%s: the script's --help says\n%s", p, out)
	}
	assert.True(t, Speaks(""), "the default, line")
}

func TestNthTimeTimesThePythonAlgorithm(t *testing.T) {
	d, err := NthTime(python(t), 100)
	require.NoError(t, err)
	assert.Positive(t, d)
}

func TestFreeThreadedSaysWhetherTheInterpreterRunsWithoutTheLock(t *testing.T) {
	py := python(t)
	free, err := FreeThreaded(py)
	require.NoError(t, err)
	assert.False(t, free, "this machine's python3 has the lock")

	// Fake interpreters that answer as builds with and without it do.
	dir := t.TempDir()
	fake := func(answer string) string {
		path := filepath.Join(dir, strings.ReplaceAll(answer, " ", "-"))
		require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\necho '"+answer+"'\n"), 0o755))
		return path
	}
	for answer, want := range map[string]bool{"1 0": true, "1 1": false, "0 1": false} {
		free, err := FreeThreaded(fake(answer))
		require.NoError(t, err)
		assert.Equal(t, want, free, answer)
	}
	_, err = FreeThreaded(fake("what"))
	assert.ErrorContains(t, err, "answered")
}

func TestTheLecturesServerHashesAsTheGoTaskDoes(t *testing.T) {
	py := python(t)
	for _, text := range []string{"perconn", "procpool:2", "loop+goroutines:2"} {
		t.Run(text, func(t *testing.T) {
			shape, _ := Shape(describe(t, text))
			s, err := Start(py, shape, Options{SwitchInterval: 5 * time.Millisecond, Task: "sha256"})
			require.NoError(t, err)
			defer func() { require.NoError(t, s.Stop()) }()
			c, err := net.Dial("tcp", s.Addr)
			require.NoError(t, err)
			defer c.Close()
			br := bufio.NewReader(c)
			for _, n := range []string{"1", "3", "50"} {
				want, err := primetime.SHA256.Run(context.Background(), []byte(n))
				require.NoError(t, err)
				assert.Equal(t, string(want), ask(t, c, br, n), "sha256 of %s: hashlib's answer is the Go task's", n)
			}
			assert.True(t, strings.HasPrefix(ask(t, c, br, "x"), "ERR bad request"), "a bad request is refused, and the connection goes on")
			want, _ := primetime.SHA256.Run(context.Background(), []byte("2"))
			assert.Equal(t, string(want), ask(t, c, br, "2"))
		})
	}
}
