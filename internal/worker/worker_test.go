package worker

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/internal/testkit"
)

var errBad = errors.New("bad request")

// TestMain makes the test binary its own worker, serving the tasks of
// testRun.
func TestMain(m *testing.M) {
	if reexec.IsWorker() {
		err := Serve(os.Stdin, os.Stdout, []string{"echo", "stubborn", "wait"}, testRun, errBad)
		if errors.Is(err, io.EOF) {
			os.Exit(0)
		}
		os.Exit(3)
	}
	goleak.VerifyTestMain(m)
}

func testRun(ctx context.Context, name string, payload []byte) ([]byte, bool, error) {
	switch name {
	case "echo":
		switch string(payload) {
		case "panic":
			panic("echo panicked")
		case "bad":
			return nil, true, errors.Join(errBad, errors.New("bad payload"))
		case "exit":
			os.Exit(7)
		}
		return payload, true, nil
	case "wait": // until cancelled
		<-ctx.Done()
		return nil, true, ctx.Err()
	case "stubborn": // ignores cancellation
		select {}
	}
	return nil, false, nil
}

func TestFramesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	body, err := runBody("prime", []byte("10"))
	require.NoError(t, err)
	require.NoError(t, writeFrame(&buf, kindRun, 42, body...))
	require.NoError(t, writeFrame(&buf, kindFail, 43, failBody(CodePanic, "boom", []byte("stack"))...))
	require.NoError(t, writeFrame(&buf, kindCancel, 44))

	br := bufio.NewReader(&buf)
	f, err := readFrame(br)
	require.NoError(t, err)
	assert.Equal(t, kindRun, f.kind)
	assert.Equal(t, uint64(42), f.ID)
	name, payload, err := parseRun(f.Body)
	require.NoError(t, err)
	assert.Equal(t, "prime", name)
	assert.Equal(t, "10", string(payload))

	f, err = readFrame(br)
	require.NoError(t, err)
	code, msg, stack, err := parseFail(f.Body)
	require.NoError(t, err)
	assert.Equal(t, CodePanic, code)
	assert.Equal(t, "boom", msg)
	assert.Equal(t, "stack", string(stack))

	f, err = readFrame(br)
	require.NoError(t, err)
	assert.Equal(t, frame{kind: kindCancel, ID: 44, Body: []byte{}}, f)
	_, err = readFrame(br)
	assert.ErrorIs(t, err, io.EOF)
}

func TestReadFrameRefusesGarbage(t *testing.T) {
	_, err := readFrame(bufio.NewReader(strings.NewReader("hello, world\n")))
	assert.ErrorIs(t, err, errFrameTooLong, "text is read as a huge length, and refused")
	_, err = readFrame(bufio.NewReader(strings.NewReader("\x00\x00\x00\x02ab")))
	assert.ErrorContains(t, err, "shorter than its header")
	_, err = readFrame(bufio.NewReader(strings.NewReader("\x00\x00\x00\x20abc")))
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	_, _, err = parseRun([]byte{0, 9, 'a'})
	assert.Error(t, err)
	_, _, _, err = parseFail([]byte{'p', 0, 0, 0, 9})
	assert.Error(t, err)
}

func start(t *testing.T) *Proc {
	t.Helper()
	p, err := Start(Options{StartTimeout: testkit.Bound})
	require.NoError(t, err)
	t.Cleanup(p.Kill)
	return p
}

func TestCallRunsTasksInTheWorker(t *testing.T) {
	p := start(t)
	assert.True(t, p.Has("echo"))
	assert.False(t, p.Has("prime"))
	assert.NotEqual(t, os.Getpid(), p.Pid())

	answer, usable, err := p.Call(context.Background(), "echo", []byte("hi"), testkit.Bound, false)
	require.NoError(t, err)
	assert.True(t, usable)
	assert.Equal(t, "hi", string(answer))

	_, usable, err = p.Call(context.Background(), "echo", []byte("panic"), testkit.Bound, false)
	var re *RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, CodePanic, re.Code)
	assert.Equal(t, "echo panicked", re.Msg)
	assert.Contains(t, string(re.Stack), "panic(")
	assert.True(t, usable, "a panic is recovered in the worker")

	_, _, err = p.Call(context.Background(), "echo", []byte("bad"), testkit.Bound, false)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, CodeBadRequest, re.Code)

	_, _, err = p.Call(context.Background(), "nope", nil, testkit.Bound, false)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, CodeUnknownTask, re.Code)
	assert.Contains(t, re.Msg, `task "nope" is not registered in the worker process`)

	_, usable, err = p.Call(context.Background(), "echo", []byte("exit"), testkit.Bound, false)
	assert.EqualError(t, err, "worker exited: exit status 7")
	assert.ErrorIs(t, err, ErrExited)
	assert.False(t, usable)
	assert.True(t, p.dead)
}

func TestCancelStopsTheTaskInTheWorker(t *testing.T) {
	p := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, usable, err := p.Call(ctx, "wait", nil, testkit.Bound, true)
	assert.ErrorIs(t, err, context.Canceled)
	assert.True(t, usable, "the worker stopped the task and can go on")
	answer, _, err := p.Call(context.Background(), "echo", []byte("still here"), testkit.Bound, true)
	require.NoError(t, err)
	assert.Equal(t, "still here", string(answer))
}

func TestWorkerThatIgnoresCancelIsReportedUnusable(t *testing.T) {
	p := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, usable, err := p.Call(ctx, "stubborn", nil, time.Millisecond, false)
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, usable)
	p.Kill()
	assert.True(t, p.dead)
}

func TestCloseEndsTheWorker(t *testing.T) {
	p := start(t)
	p.Close(testkit.Bound)
	assert.True(t, p.dead)
	assert.NoError(t, p.waitErr, "the worker exited by itself when its stdin closed")
}

func TestStartFailsClearlyWithoutAHandshake(t *testing.T) {
	cases := map[string]Options{
		"worker process sent no handshake within 50ms":               {Path: "/bin/sleep", Args: []string{"30"}, StartTimeout: 50 * time.Millisecond},
		"worker process wrote something other than its handshake":    {Path: "/bin/echo", Args: []string{"hello, world"}, StartTimeout: testkit.Bound},
		"worker process exited before its handshake (exit status 0)": {Path: "/bin/true", StartTimeout: testkit.Bound},
		"worker process exited before its handshake (exit status 1)": {Path: "/bin/false", StartTimeout: testkit.Bound},
		"starting worker process: fork/exec /no/such/program":        {Path: "/no/such/program", StartTimeout: testkit.Bound},
	}
	for want, opts := range cases {
		if _, err := os.Stat(opts.Path); err != nil && !strings.HasPrefix(opts.Path, "/no/") {
			t.Logf("skipping %s: %v", opts.Path, err)
			continue
		}
		_, err := Start(opts)
		require.Error(t, err, opts.Path)
		assert.Contains(t, err.Error(), want)
		if !strings.HasPrefix(opts.Path, "/no/") {
			assert.Contains(t, err.Error(), "the program must call primetime.MaybeWorker() first thing in main")
		}
	}
}

func TestStartTellsAWorkerKilledAsItStartsFromOneWithoutTheHook(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh")
	}
	// Killed by a signal before its handshake: lost, not misbuilt.
	_, err := Start(Options{Path: "/bin/sh", Args: []string{"-c", "kill -9 $$"}, StartTimeout: testkit.Bound})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrExited)
	assert.Equal(t, "worker exited before its handshake (signal: killed)", err.Error())

	// Its stdout closed but it lives on: killed at the deadline, and the
	// kill is ours, so the hook's advice stands.
	_, err = Start(Options{Path: "/bin/sh", Args: []string{"-c", "exec >&-; exec sleep 30"}, StartTimeout: 50 * time.Millisecond})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrExited)
	assert.Contains(t, err.Error(), "worker process closed its stdout without a handshake: the program must call primetime.MaybeWorker()")
}

func TestWorkerRefusesToStartWorkers(t *testing.T) {
	t.Setenv(reexec.EnvMarker, "1")
	_, err := Start(Options{StartTimeout: testkit.Bound})
	assert.ErrorContains(t, err, "refusing to start child processes from inside a worker process")
}
