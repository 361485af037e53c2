// Package strategytest checks a strategy against the contract that every
// strategy keeps, as golang.org/x/net/nettest checks a net.Conn and
// testing/fstest an fs.FS: a scheduler or an executor written elsewhere
// runs the suite and knows that it conforms. The built-in strategies pass
// it.
//
// The suite serves each check with a server.Server of its own on a
// loopback port, and runs a task of its own, registered under the name
// "strategytest" by this package's init function: a test binary whose
// strategy runs tasks in worker processes calls primetime.MaybeWorker first
// thing in its TestMain, as every program with a process pool does. The
// checks run one after another, never in parallel, and the last counts the
// process's goroutines, descriptors and child processes: run no other test
// in parallel with the suite.
package strategytest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

// Run checks s, in subtests:
//
//   - AnswersInOrder: concurrent clients each get their answers in the
//     order they asked, and every request read is answered;
//   - Pipelined: requests sent at once are answered in order;
//   - Refusals: a bad request gets an error answer and the connection goes
//     on; a line over the limit gets one and the connection closes;
//   - IdleTimeout: a connection that sends nothing is closed;
//   - ShutdownFinishesInFlight: Shutdown lets a request in flight finish and
//     be answered, then returns nil;
//   - LeavingCancelsTheTask: a client that leaves while its request runs,
//     by a FIN (which a server cannot tell from a close) or a reset, has
//     the task's context ended, and after a FIN reads an answer that says
//     why it gets no other; so has a client that closes right after its
//     last request, whatever that request's last bytes (a line without
//     its newline, or one pipelined behind another);
//   - PythonMode: AnswersInOrder again under the emulated interpreter lock,
//     and every task that runs in this process holds the lock while it runs;
//   - NoLeaks: once the server has closed, no goroutine, descriptor or
//     child process that it started is left.
func Run(t *testing.T, s strategy.Strategy) {
	t.Helper()
	var cancels canceller
	t.Run("AnswersInOrder", func(t *testing.T) { answersInOrder(t, s, 0) })
	t.Run("Pipelined", func(t *testing.T) { pipelined(t, s) })
	t.Run("Refusals", func(t *testing.T) { refusals(t, s) })
	t.Run("IdleTimeout", func(t *testing.T) { idleTimeout(t, s) })
	t.Run("ShutdownFinishesInFlight", func(t *testing.T) { shutdownFinishesInFlight(t, s) })
	t.Run("LeavingCancelsTheTask", func(t *testing.T) {
		leavingCancelsTheTask(t, s, "fin", &cancels)
		leavingCancelsTheTask(t, s, "rst", &cancels)
		for _, shape := range []string{"NoNewline", "Pipelined"} {
			t.Run(shape, func(t *testing.T) { closingCancelsTheLastRequest(t, s, shape, &cancels) })
		}
	})
	t.Run("PythonMode", func(t *testing.T) {
		answersInOrder(t, s, time.Millisecond)
		tasksHoldTheLock(t, s)
	})
	t.Run("NoLeaks", func(t *testing.T) { noLeaks(t, s, &cancels) })
}

// RunScheduler runs the suite for sched with the inline executor and with
// a pool of two worker goroutines.
func RunScheduler(t *testing.T, sched strategy.Scheduler) {
	t.Helper()
	for _, e := range []strategy.Executor{strategy.Inline(), strategy.Goroutines(2)} {
		s := strategy.New(sched, e)
		t.Run(s.String(), func(t *testing.T) { Run(t, s) })
	}
}

// RunExecutor runs the suite for e under a goroutine per connection and
// under an event loop.
func RunExecutor(t *testing.T, e strategy.Executor) {
	t.Helper()
	for _, s := range []strategy.Strategy{strategy.Offload(strategy.PerConn(), e), strategy.LoopWithOffload(e)} {
		t.Run(s.String(), func(t *testing.T) { Run(t, s) })
	}
}

// A testServer is a server of the suite's, on a loopback port.
type testServer struct {
	*server.Server
	addr   string
	served chan error
}

// serve serves srv, whose strategy, task and logger it sets, until the
// check ends; then it closes it and checks what Serve returned.
func serve(t *testing.T, s strategy.Strategy, srv *server.Server) *testServer {
	t.Helper()
	srv.Strategy, srv.Task = s, task
	if srv.Logger == nil {
		srv.Logger = slog.New(slog.DiscardHandler)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: srv, addr: l.Addr().String(), served: make(chan error, 1)}
	go func() { ts.served <- srv.Serve(l) }()
	t.Cleanup(func() { ts.close(t) })
	return ts
}

// close closes the server, once, and checks that Serve returned
// ErrServerClosed.
func (ts *testServer) close(t *testing.T) {
	if ts.served == nil {
		return
	}
	ts.Close()
	select {
	case err := <-ts.served:
		if !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("Serve returned %v, want server.ErrServerClosed", err)
		}
	case <-time.After(testkit.Bound):
		t.Errorf("Serve did not return within %v of Close", testkit.Bound)
	}
	ts.served = nil
}

// prime returns the nth prime, as the task answers it.
func prime(n int) string {
	p, _ := primetime.NthPrime(context.Background(), n)
	return strconv.Itoa(p)
}

func answersInOrder(t *testing.T, s strategy.Strategy, gil time.Duration) {
	const clients, requests = 4, 25
	ts := serve(t, s, &server.Server{GIL: gil})
	var wg sync.WaitGroup
	for i := range clients {
		c := testkit.Dial(t, ts.addr)
		wg.Go(func() {
			defer c.Conn().Close()
			for k := 1; k <= requests; k++ {
				n := i*requests + k
				c.Send(strconv.Itoa(n))
				answer, err := c.ReadErr()
				if err != nil || answer != prime(n) {
					t.Errorf("client %d, request %d: got %q (%v), want %s", i, n, answer, err, prime(n))
					return
				}
			}
		})
	}
	wg.Wait()
	ts.close(t)
	if st := ts.Stats(); st.Requests != clients*requests || st.Answered != clients*requests {
		t.Errorf("the server read %d requests and answered %d, want %d of each", st.Requests, st.Answered, clients*requests)
	}
}

func pipelined(t *testing.T, s strategy.Strategy) {
	const requests = 30
	ts := serve(t, s, &server.Server{})
	c := testkit.Dial(t, ts.addr)
	var all strings.Builder
	for n := 1; n <= requests; n++ {
		fmt.Fprintf(&all, "%d\n", n)
	}
	if _, err := io.WriteString(c.Conn(), all.String()); err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= requests; n++ {
		answer, err := c.ReadErr()
		if err != nil || answer != prime(n) {
			t.Fatalf("pipelined request %d: got %q (%v), want %s", n, answer, err, prime(n))
		}
	}
}

func refusals(t *testing.T, s strategy.Strategy) {
	ts := serve(t, s, &server.Server{MaxLineBytes: 8})
	c := testkit.Dial(t, ts.addr)
	if answer := c.Ask("ten"); !strings.HasPrefix(answer, "ERR ") {
		t.Errorf("a bad request got %q, want an error answer", answer)
	}
	if answer := c.Ask("10"); answer != "29" {
		t.Errorf("after a bad request, 10 got %q, want 29: the connection goes on", answer)
	}
	c.Send("1234567890123")
	answer, err := c.ReadErr()
	if err != nil || !strings.HasPrefix(answer, "ERR ") || !strings.Contains(answer, "limit") {
		t.Errorf("a line over the limit got %q (%v), want an error answer that names the limit", answer, err)
	}
	if extra, err := c.ReadErr(); err != io.EOF {
		t.Errorf("after a line over the limit, got %q (%v), want the connection closed", extra, err)
	}
}

func idleTimeout(t *testing.T, s strategy.Strategy) {
	ts := serve(t, s, &server.Server{IdleTimeout: 50 * time.Millisecond})
	c := testkit.Dial(t, ts.addr)
	if answer := c.Ask("10"); answer != "29" {
		t.Fatalf("10 got %q, want 29", answer)
	}
	if extra, err := c.ReadErr(); err != io.EOF {
		t.Errorf("an idle connection read %q (%v), want it closed by the server", extra, err)
	}
}

func shutdownFinishesInFlight(t *testing.T, s strategy.Strategy) {
	g := newGate(t)
	ts := serve(t, s, &server.Server{})
	c := testkit.Dial(t, ts.addr)
	c.Send(g.request("held"))
	g.wait(t, "started held")
	shut := make(chan error, 1)
	go func() { shut <- ts.Shutdown(context.Background()) }()
	g.release(t, "held")
	if answer, err := c.ReadErr(); err != nil || answer != "released held" {
		t.Fatalf("the request in flight at Shutdown got %q (%v), want its answer", answer, err)
	}
	select {
	case err := <-shut:
		if err != nil {
			t.Errorf("Shutdown returned %v, want nil", err)
		}
	case <-time.After(testkit.Bound):
		t.Fatal("Shutdown did not return once the request in flight was answered")
	}
}

func leavingCancelsTheTask(t *testing.T, s strategy.Strategy, how string, cancels *canceller) {
	cancels.check(t)
	g := newGate(t)
	ts := serve(t, s, &server.Server{})
	c := testkit.Dial(t, ts.addr)
	c.Send(g.request("abandoned"))
	g.wait(t, "started abandoned")
	tc, _ := c.Conn().(*net.TCPConn)
	if how == "fin" && tc != nil {
		tc.CloseWrite()
		cancels.wait(t, g, "abandoned", "its client half-closed the connection")
		if answer, err := c.ReadErr(); err != nil || !strings.HasPrefix(answer, "ERR cancelled: the connection was closed before the answer") {
			t.Errorf("a half-closed client's cancelled request got %q (%v), want the answer that says why", answer, err)
		}
		c.Conn().Close()
	} else {
		if tc != nil {
			tc.SetLinger(0) // a reset, not a FIN
		}
		c.Conn().Close()
		cancels.wait(t, g, "abandoned", "its client reset the connection")
	}
	if answer := testkit.Dial(t, ts.addr).Ask("10"); answer != "29" {
		t.Errorf("after a client reset, 10 got %q, want 29", answer)
	}
}

// closingCancelsTheLastRequest sends a held request in the given shape and
// closes at once: the client has left before the server read its request,
// and the task, if it starts (within the bound), must see its context end.
func closingCancelsTheLastRequest(t *testing.T, s strategy.Strategy, shape string, cancels *canceller) {
	cancels.check(t)
	g := newGate(t)
	ts := serve(t, s, &server.Server{})
	c := testkit.Dial(t, ts.addr)
	var sent string
	switch shape {
	case "NoNewline":
		sent = g.request("last")
	case "Pipelined":
		sent = g.request("last") + "\n" + g.request("next") + "\n"
	}
	if _, err := io.WriteString(c.Conn(), sent); err != nil {
		t.Fatalf("sending %q: %v", sent, err)
	}
	c.Conn().Close()
	// A server that sees the client gone before it starts the task may
	// never start it, the best it can do; one that starts it must end it.
	if g.next(t, "started last") {
		cancels.wait(t, g, "last", "its client closed right after sending it")
	}
	if answer := testkit.Dial(t, ts.addr).Ask("10"); answer != "29" {
		t.Errorf("after a client closed with its last request (%s), 10 got %q, want 29", shape, answer)
	}
	ts.close(t)
	g.close()
	for range len(g.events) {
		if <-g.events == "started next" {
			t.Errorf("a request pipelined by a client that had left was started")
		}
	}
}

func noLeaks(t *testing.T, s strategy.Strategy, cancels *canceller) {
	cancels.check(t)
	fds := openDescriptors()
	kidsBefore := proctest.Children()
	ignore := goleak.IgnoreCurrent()
	g := newGate(t)
	ts := serve(t, s, &server.Server{})
	c := testkit.Dial(t, ts.addr)
	if answer := c.Ask("10"); answer != "29" {
		t.Fatalf("10 got %q, want 29", answer)
	}
	c.Conn().Close() // a server of one connection at a time serves the next
	held := testkit.Dial(t, ts.addr)
	held.Send(g.request("closed"))
	g.wait(t, "started closed")
	ts.close(t) // Close cancels the task in flight
	cancels.wait(t, g, "closed", "the server closed")
	held.Conn().Close()
	g.close()
	if err := goleak.Find(ignore); err != nil {
		t.Errorf("goroutines left once the server closed: %v", err)
	}
	if now := openDescriptors(); fds >= 0 && now > fds {
		t.Errorf("%d descriptors open once the server closed, %d before", now, fds)
	}
	if kids := slices.DeleteFunc(proctest.Children(), func(pid int) bool { return slices.Contains(kidsBefore, pid) }); len(kids) > 0 {
		t.Errorf("child processes left once the server closed: %v", kids)
	}
}

// A canceller follows whether the strategy ends a task's context when its
// request is abandoned: once a check has found that it does not, the
// checks that need it fail at once, rather than each wait out its testkit.Bound.
type canceller struct{ ignored string }

// check fails t at once if a check before found cancellation ignored.
func (c *canceller) check(t *testing.T) {
	t.Helper()
	if c.ignored != "" {
		t.Fatalf("not checked: the strategy does not end an abandoned task's context (%s)", c.ignored)
	}
}

// wait waits until the held task id sees its context end, after why. If
// it does not within the testkit.Bound, it releases every task of g and fails t
// with what the strategy must do.
func (c *canceller) wait(t *testing.T, g *gate, id, why string) {
	t.Helper()
	if g.next(t, "cancelled "+id) {
		return
	}
	c.ignored = t.Name()
	g.close() // the held tasks end, and with them the server
	t.Fatalf("the task's context did not end within %v after %s: an executor passes Submit's ctx to the task it runs, and a scheduler serves each request under Request.Context", testkit.Bound, why)
}

// tasksHoldTheLock checks that in Python mode every task that runs in this
// process runs as an interpreter thread holding the lock.
func tasksHoldTheLock(t *testing.T, s strategy.Strategy) {
	ts := serve(t, s, &server.Server{GIL: time.Millisecond})
	c := testkit.Dial(t, ts.addr)
	for range 4 {
		if answer := c.Ask(lockCheck + " 10"); answer != "29" {
			t.Fatalf("in Python mode a task answered %q, want 29: an executor runs the tasks it runs in this process with env.Run, or with a Thread of env.WorkerThread, which hold the interpreter lock as a Python thread would", answer)
		}
	}
}

// openDescriptors returns how many descriptors this process has open, or
// -1 where /proc cannot tell.
func openDescriptors() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}
