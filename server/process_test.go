package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

// callback is a task for worker processes that acts as a gate across the
// process boundary. "call ADDR" dials ADDR, writes the worker's pid, and
// holds the request until the test closes that connection or the request is
// cancelled. "pid" answers the worker's pid; anything else is echoed.
var callback = primetime.TaskFunc("callback", func(ctx context.Context, payload []byte) ([]byte, error) {
	p := string(payload)
	switch {
	case p == "pid":
		return strconv.AppendInt(nil, int64(os.Getpid()), 10), nil
	case p == "garbage":
		// Corrupts the framing on the worker's stdout.
		os.Stdout.WriteString("hello, parent\n")
		return []byte("unreachable"), nil
	case p == "hang":
		select {} // ignores cancellation, like a stuck C extension
	case strings.HasPrefix(p, "call "):
		c, err := net.Dial("tcp", strings.TrimPrefix(p, "call "))
		if err != nil {
			return nil, err
		}
		defer c.Close()
		if _, err := fmt.Fprintf(c, "%d\n", os.Getpid()); err != nil {
			return nil, err
		}
		released := make(chan struct{})
		go func() {
			io.Copy(io.Discard, c)
			close(released)
		}()
		select {
		case <-released:
			return []byte("released"), nil
		case <-ctx.Done():
			c.Close()
			<-released
			return nil, ctx.Err()
		}
	}
	return payload, nil
})

func init() {
	primetime.Register(callback)
}

// askPid asks c for the pid of the worker process that answers.
func askPid(t *testing.T, c *testkit.Client) int {
	t.Helper()
	pid, err := strconv.Atoi(c.Ask("pid"))
	require.NoError(t, err)
	return pid
}

// holdInWorker sends a "call" request on c and returns the pid of the
// worker that runs it, once it runs, and the callback connection that
// holds it.
func holdInWorker(t *testing.T, c *testkit.Client) (pid int, hold net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	c.Send("call " + l.Addr().String())
	l.(*net.TCPListener).SetDeadline(time.Now().Add(testkit.Bound))
	hold, err = l.Accept()
	require.NoError(t, err, "the worker did not call back")
	t.Cleanup(func() { hold.Close() })
	hold.SetReadDeadline(time.Now().Add(testkit.Bound))
	line, err := bufio.NewReader(hold).ReadString('\n')
	require.NoError(t, err)
	pid, err = strconv.Atoi(strings.TrimSpace(line))
	require.NoError(t, err)
	return pid, hold
}

func TestProcessStrategiesRunTasksInOtherProcesses(t *testing.T) {
	for _, text := range []string{"procpool:1", "loop+procs:1"} {
		t.Run(text, func(t *testing.T) {
			ts := startWith(t, text, callback)
			c := testkit.Dial(t, ts.addr)
			pid := askPid(t, c)
			assert.NotEqual(t, os.Getpid(), pid)
			_, hold := holdInWorker(t, c)
			hold.Close()
			assert.Equal(t, "released", c.Read())
		})
	}
}

func TestProcessPoolGivesTheLastReturnedWorkerTheNextTask(t *testing.T) {
	ts := startWith(t, "procpool:2", callback)
	c := testkit.Dial(t, ts.addr)
	first := askPid(t, c)
	for range 5 {
		assert.Equal(t, first, askPid(t, c), "one client at a time keeps one worker busy")
	}

	held, hold := holdInWorker(t, c)
	assert.NotEqual(t, held, askPid(t, testkit.Dial(t, ts.addr)), "the held worker is not idle")
	hold.Close()
	require.Equal(t, "released", c.Read())
	assert.Equal(t, held, askPid(t, c), "the worker returned last goes first")
}

func TestKilledWorkerFailsOnlyItsRequest(t *testing.T) {
	for _, text := range []string{"procpool:1", "loop+procs:1"} {
		t.Run(text, func(t *testing.T) {
			ts := startWith(t, text, callback)
			c := testkit.Dial(t, ts.addr)
			pid, _ := holdInWorker(t, c)
			require.NoError(t, proctest.Kill(pid))
			assert.Equal(t, "ERR worker exited: signal: killed", c.Read())

			// The pool replaced the worker and goes on.
			assert.Equal(t, "after", c.Ask("after"))
			newPid := askPid(t, c)
			assert.NotEqual(t, pid, newPid, "a new worker")
			assert.Equal(t, "next", testkit.Dial(t, ts.addr).Ask("next"))
		})
	}
}

// A terminal's Ctrl-C reaches every process of its group: workers ignore
// it, and stop when their server says so.
func TestWorkerProcessesIgnoreSIGINT(t *testing.T) {
	if !proctest.Available() {
		t.Skip("needs /proc")
	}
	cluster := startCluster(t, 1)
	ts := startWith(t, "procpool:1", callback)
	pids := []int{askPid(t, testkit.Dial(t, ts.addr)), cluster.Pids[0]}
	for _, pid := range pids {
		ignored, err := proctest.Ignores(pid, int(syscall.SIGINT))
		require.NoError(t, err)
		assert.True(t, ignored, "worker %d ignores SIGINT", pid)
	}
	ignored, err := proctest.Ignores(os.Getpid(), int(syscall.SIGINT))
	require.NoError(t, err)
	assert.False(t, ignored, "the server does not")
}

func TestClientDisconnectFreesItsWorker(t *testing.T) {
	for _, text := range []string{"procpool:1", "loop+procs:1"} {
		t.Run(text, func(t *testing.T) {
			ts := startWith(t, text, callback)
			gone := testkit.Dial(t, ts.addr)
			pid, _ := holdInWorker(t, gone)
			gone.Conn().Close()

			// The only worker is busy until its task is cancelled; the
			// same worker then answers, so it was freed, not replaced.
			got := askPid(t, testkit.Dial(t, ts.addr))
			assert.Equal(t, pid, got)
		})
	}
}

func TestUnregisteredTaskIsRefusedWithAdviceAtStart(t *testing.T) {
	unregistered := primetime.TaskFunc("unregistered", func(context.Context, []byte) ([]byte, error) { return nil, nil })
	for _, text := range []string{"procpool:1", "loop+procs:1"} {
		t.Run(text, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			srv := &server.Server{Strategy: parse(t, text), Task: unregistered, Logger: discard}
			assert.EqualError(t, srv.Serve(l), `strategy: task "unregistered" is not registered in the worker processes: register it with primetime.Register in an init function of the program`)
			assert.Empty(t, proctest.Children(), "the workers it started are gone")
		})
	}
}

func TestShutdownLeavesNoChildProcess(t *testing.T) {
	if !proctest.Available() {
		t.Skip("needs /proc")
	}
	for _, text := range []string{"procpool:2", "loop+procs:2"} {
		t.Run(text, func(t *testing.T) {
			require.Empty(t, proctest.Children())
			ts := startWith(t, text, nil)
			assert.Equal(t, "29", testkit.Dial(t, ts.addr).Ask("10"))
			assert.Len(t, proctest.Children(), 2, "two workers")

			require.NoError(t, ts.Shutdown(context.Background()))
			assert.Empty(t, proctest.Children(), "every worker has exited and been waited for")
		})
	}
}

func TestProgramWithoutTheWorkerCallFailsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	bin := filepath.Join(t.TempDir(), "nohook")
	build := exec.Command("go", "build", "-o", bin, "./testdata/nohook")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	ctx, cancel := context.WithTimeout(context.Background(), testkit.Bound)
	defer cancel()
	run := exec.CommandContext(ctx, bin)
	out, err = run.CombinedOutput()
	require.NoError(t, ctx.Err(), "the program hung")
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "%s", out)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, string(out), "worker process exited before its handshake (exit status 1): the program must call primetime.MaybeWorker() first thing in main")
	assert.Equal(t, 1, strings.Count(string(out), "this process was started as a worker process, so it must not serve"),
		"the worker refused to serve, and started no workers of its own: %s", out)
}

func TestTestBinaryWithoutTheWorkerCallRunsItsTestsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary")
	}
	bin := filepath.Join(t.TempDir(), "nohooktest")
	build := exec.Command("go", "test", "-c", "-o", bin, "./testdata/nohooktest")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	pids := filepath.Join(t.TempDir(), "pids")
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Bound)
	defer cancel()
	run := exec.CommandContext(ctx, bin, "-test.v")
	run.Env = append(os.Environ(), "PIDFILE="+pids)
	out, err = run.CombinedOutput()
	require.NoError(t, ctx.Err(), "the test binary hung")
	require.NoError(t, err, "%s", out)
	// The worker ran no test and said so at once ("PASS" instead of its
	// handshake): the parent did not wait out the handshake's timeout.
	assert.Regexp(t, `Serve: strategy: starting worker processes: worker process .*"PASS".*: the program must call primetime.MaybeWorker\(\) first thing in main \(and in TestMain for tests\)`, string(out))
	assert.NotContains(t, string(out), "no handshake within")
	recorded, err := os.ReadFile(pids)
	require.NoError(t, err)
	lines := strings.Fields(string(recorded))
	require.Len(t, lines, 2, "two tests ran")
	assert.Equal(t, lines[0], lines[1], "both in one process: no worker ran a test")
}

func TestWorkerThatWritesGarbageIsReplaced(t *testing.T) {
	ts := startWith(t, "procpool:1", callback)
	c := testkit.Dial(t, ts.addr)
	pid := askPid(t, c)
	answer := c.Ask("garbage")
	assert.True(t, strings.HasPrefix(answer, "ERR worker broke the protocol: "), answer)
	newPid := askPid(t, c)
	assert.NotEqual(t, pid, newPid, "the worker was killed and replaced")
	assert.NotContains(t, proctest.Children(), pid, "and waited for")
}

func TestWorkerThatHangsIsKilledAfterTheRequestTimeout(t *testing.T) {
	s, err := strategy.Parse("procpool:1")
	require.NoError(t, err)
	ts := start(t, &server.Server{Strategy: s, Task: callback, RequestTimeout: 50 * time.Millisecond})
	c := testkit.Dial(t, ts.addr)
	pid := askPid(t, c)
	assert.Equal(t, "ERR request timed out after 50ms: context deadline exceeded", c.Ask("hang"))
	// The replacement can take longer than the 50 ms request timeout
	// to start (a race-enabled program, a busy machine): a request that
	// waits for it meanwhile times out. Ask until one is answered.
	var answer string
	<-waitUntil(func() bool {
		answer = c.Ask("pid")
		return !strings.HasPrefix(answer, "ERR request timed out")
	})
	newPid, err := strconv.Atoi(answer)
	require.NoError(t, err)
	assert.NotEqual(t, pid, newPid, "the stuck worker was killed after its grace period and replaced")
}

func TestRandomKillsDuringALoadRun(t *testing.T) {
	if !proctest.Available() {
		t.Skip("needs /proc")
	}
	ts := startWith(t, "procpool:2", nil)
	// Kills start once the pool is up: a worker killed before its first
	// handshake fails Serve itself, as a program without MaybeWorker would.
	require.Equal(t, "29", testkit.Dial(t, ts.addr).Ask("10"))
	stop := make(chan struct{})
	killed := make(chan int, 1)
	go func() {
		// Kill a worker every 20 ms, five times, while clients ask.
		n := 0
		defer func() { killed <- n }()
		for n < 5 {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if kids := proctest.Children(); len(kids) > 0 {
				if proctest.Kill(kids[n%len(kids)]) == nil {
					n++
				}
			}
		}
	}()
	const clients, requests = 4, 150
	var wg sync.WaitGroup
	var answers, errs atomic.Int64
	for range clients {
		wg.Go(func() {
			c := testkit.Dial(t, ts.addr)
			defer c.Conn().Close()
			for range requests {
				line, err := c.ReadAfter("100")
				if !assert.NoError(t, err, "every request gets an answer") {
					return
				}
				switch {
				case line == "541":
					answers.Add(1)
				case strings.HasPrefix(line, "ERR worker exited"):
					errs.Add(1)
				default:
					t.Errorf("unexpected answer %q", line)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	n := <-killed
	t.Logf("%d kills: %d answers, %d ERR worker exited", n, answers.Load(), errs.Load())
	assert.Equal(t, int64(clients*requests), answers.Load()+errs.Load())
	assert.LessOrEqual(t, errs.Load(), int64(n), "only the requests in the killed workers failed")
	// A worker killed as it started leaves its slot empty until the slot
	// is next used: two requests at once use both.
	<-waitUntil(func() bool {
		var both sync.WaitGroup
		for range 2 {
			both.Go(func() { testkit.Dial(t, ts.addr).Ask("3000") })
		}
		both.Wait()
		return len(proctest.Children()) == 2
	})
	assert.Len(t, proctest.Children(), 2, "the pool is back to full size")
	assert.Equal(t, "29", testkit.Dial(t, ts.addr).Ask("10"))
}

func TestWorkerKilledWhileIdleCostsNoRequest(t *testing.T) {
	ts := startWith(t, "procpool:1", callback)
	c := testkit.Dial(t, ts.addr)
	pid := askPid(t, c)
	require.NoError(t, proctest.Kill(pid))
	<-waitUntil(func() bool { return !slices.Contains(proctest.Children(), pid) || proctest.Zombie(pid) })
	// The dead worker's stdin is closed: the request cannot be delivered,
	// so it runs on a new worker instead of failing.
	newPid := askPid(t, c)
	assert.NotEqual(t, pid, newPid)
}
