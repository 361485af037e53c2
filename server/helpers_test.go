package server_test

import (
	"bytes"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

func TestMain(m *testing.M) {
	primetime.MaybeWorker()
	goleak.VerifyTestMain(m)
}

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
		case <-time.After(testkit.Bound):
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
	case <-time.After(testkit.Bound):
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
