package server_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

func TestMain(m *testing.M) {
	primetime.MaybeWorker()
	goleak.VerifyTestMain(m)
}

// bound is how long a test waits for something that must happen. It is a
// safety net against a hang, never a wait for something to happen by
// itself: no test passes because bound elapsed.
const bound = 10 * time.Second

// allStrategies is every scheduler with the inline executor and with a
// goroutine pool.
var allStrategies = []string{
	"serial", "perconn", "pool:1", "pool:4", "loop",
	"serial+goroutines:2", "perconn+goroutines:2", "pool:4+goroutines:2", "loop+goroutines:2",
}

// processStrategies run their tasks in worker processes; their tasks must be
// registered, so the gate task cannot run on them.
var processStrategies = []string{"procpool:2", "loop+procs:2", "pool:3+procs:1"}

// concurrentStrategies are the strategies that answer one connection while
// another connection's task runs.
var concurrentStrategies = []string{
	"perconn", "pool:2", "loop+goroutines:2", "perconn+goroutines:2", "pool:3+goroutines:2",
}

// discard is a logger for servers whose log the test does not read.
var discard = slog.New(slog.DiscardHandler)

// testServer is a server on a loopback port, closed when the test ends.
type testServer struct {
	*server.Server
	addr   string
	closed chan struct{} // closed when the listener is closed
	served chan error    // receives Serve's result
}

// start serves srv on a loopback port. The test fails if Serve returns
// anything but ErrServerClosed, or has not returned by the end of the test.
func start(t *testing.T, srv *server.Server) *testServer {
	t.Helper()
	if srv.Logger == nil {
		srv.Logger = discard
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ts := &testServer{Server: srv, addr: l.Addr().String(), closed: make(chan struct{}), served: make(chan error, 1)}
	go func() { ts.served <- srv.Serve(&notifyListener{Listener: l, closed: ts.closed}) }()
	t.Cleanup(func() {
		srv.Close()
		select {
		case err := <-ts.served:
			require.ErrorIs(t, err, server.ErrServerClosed)
		case <-time.After(bound):
			t.Error("Serve did not return after Close")
		}
		ts.served <- server.ErrServerClosed // for a test that already read it
	})
	return ts
}

// startWith serves task with the strategy named by text.
func startWith(t *testing.T, text string, task primetime.Task) *testServer {
	t.Helper()
	return start(t, &server.Server{Strategy: parse(t, text), Task: task})
}

// parse returns the strategy named by text.
func parse(t *testing.T, text string) strategy.Strategy {
	t.Helper()
	s, err := strategy.Parse(text)
	require.NoError(t, err)
	return s
}

// serveResult waits for Serve to return.
func (ts *testServer) serveResult(t *testing.T) error {
	t.Helper()
	select {
	case err := <-ts.served:
		ts.served <- err
		return err
	case <-time.After(bound):
		t.Fatal("Serve did not return")
		return nil
	}
}

// notifyListener closes a channel when the listener is closed.
type notifyListener struct {
	net.Listener
	once   sync.Once
	closed chan struct{}
}

func (l *notifyListener) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() { close(l.closed) })
	return err
}

// client is one connection to a test server.
type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, br: bufio.NewReader(c)}
}

func (c *client) send(line string) {
	c.t.Helper()
	_, err := io.WriteString(c.c, line+"\n")
	require.NoError(c.t, err)
}

// read returns the next answer line without its newline.
func (c *client) read() string {
	c.t.Helper()
	line, err := c.readErr()
	require.NoError(c.t, err)
	return line
}

func (c *client) readErr() (string, error) {
	c.c.SetReadDeadline(time.Now().Add(bound))
	line, err := c.br.ReadString('\n')
	return strings.TrimSuffix(line, "\n"), err
}

// readAfter sends line and returns the answer or the error.
func (c *client) readAfter(line string) (string, error) {
	if _, err := io.WriteString(c.c, line+"\n"); err != nil {
		return "", err
	}
	return c.readErr()
}

func (c *client) ask(line string) string {
	c.t.Helper()
	c.send(line)
	return c.read()
}

// gate is a task that holds every request whose payload starts with "hold"
// until the test releases it, and echoes every other payload at once. It
// logs when each task starts and ends, so tests can check what ran in what
// order.
type gate struct {
	started   chan string   // the payload of each held task, as it starts
	release   chan struct{} // a receive releases one held task
	cancelled chan string   // the payload of each held task whose context ended

	mu     sync.Mutex
	events []string
}

func newGate() *gate {
	return &gate{started: make(chan string, 100), release: make(chan struct{}), cancelled: make(chan string, 100)}
}

func (g *gate) Name() string { return "gate" }

func (g *gate) Run(ctx context.Context, payload []byte) ([]byte, error) {
	p := string(payload)
	g.log("start " + p)
	defer g.log("end " + p)
	if !strings.HasPrefix(p, "hold") {
		return payload, nil
	}
	g.started <- p
	select {
	case g.release <- struct{}{}:
		return []byte("released " + p), nil
	case <-ctx.Done():
		g.cancelled <- p
		return nil, ctx.Err()
	}
}

func (g *gate) log(event string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.events = append(g.events, event)
}

func (g *gate) log0() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.events...)
}

// waitStarted waits for a held task to start and returns its payload.
func (g *gate) waitStarted(t *testing.T) string {
	t.Helper()
	return receive(t, g.started, "no held task started")
}

// releaseOne lets one held task finish.
func (g *gate) releaseOne(t *testing.T) {
	t.Helper()
	receive(t, g.release, "no held task to release")
}

// waitCancelled waits for a held task to see its context end and returns
// its payload.
func (g *gate) waitCancelled(t *testing.T) string {
	t.Helper()
	return receive(t, g.cancelled, "no held task saw its context end")
}

// receive returns the next value from c, or fails the test with msg if
// none comes within bound.
func receive[T any](t *testing.T, c <-chan T, msg string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(bound):
		t.Fatal(msg)
		var zero T
		return zero
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// indexOf returns the position of event in events, failing if it is absent.
func indexOf(t *testing.T, events []string, event string) int {
	t.Helper()
	for i, e := range events {
		if e == event {
			return i
		}
	}
	t.Fatalf("event %q missing from %v", event, events)
	return -1
}
