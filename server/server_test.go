package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

func TestEveryStrategyAnswersConcurrentClients(t *testing.T) {
	const maxN = 300
	want := make([]string, maxN+1)
	for n := 1; n <= maxN; n++ {
		p, err := primetime.NthPrime(context.Background(), n)
		require.NoError(t, err)
		want[n] = strconv.Itoa(p)
	}
	for _, text := range append(allStrategies, processStrategies...) {
		t.Run(text, func(t *testing.T) {
			ts := startWith(t, text, nil)
			const clients, requests = 8, 25
			var wg sync.WaitGroup
			for i := range clients {
				wg.Go(func() {
					// Each client closes when done: Serial and pool:1 serve
					// the next connection only then.
					c := testkit.Dial(t, ts.addr)
					defer c.Conn().Close()
					rng := rand.New(rand.NewPCG(uint64(i), 1))
					for range requests {
						n := 1 + rng.IntN(maxN)
						c.Send(strconv.Itoa(n))
						line, err := c.ReadErr()
						if !assert.NoError(t, err) || !assert.Equal(t, want[n], line, "n=%d", n) {
							return
						}
					}
				})
			}
			wg.Wait()
			st := ts.Stats()
			assert.Equal(t, uint64(clients), st.Accepted)
			assert.Equal(t, uint64(clients*requests), st.Answered)
			assert.Zero(t, st.Errors)
		})
	}
}

func TestBadRequestsGetErrAndTheConnectionStaysUsable(t *testing.T) {
	for _, text := range append(allStrategies, processStrategies...) {
		t.Run(text, func(t *testing.T) {
			s, err := strategy.Parse(text)
			require.NoError(t, err)
			ts := start(t, &server.Server{Strategy: s, MaxLineBytes: 16})
			c := testkit.Dial(t, ts.addr)
			for _, bad := range []string{"abc", "", "-3", "0", "1000001", "1e3", "\x00\xff"} {
				assert.True(t, strings.HasPrefix(c.Ask(bad), "ERR bad request: "), "request %q", bad)
			}
			assert.Equal(t, "29", c.Ask("10"), "the connection is still usable")
			assert.Equal(t, "29", c.Ask("10\r"), "a CRLF line ending is accepted")
			assert.Equal(t, "29", c.Ask(strings.Repeat("0", 14)+"10"), "a line of exactly the limit is accepted")

			c.Send(strings.Repeat("1", 17))
			assert.Equal(t, "ERR request line too long: the limit is 16 bytes", c.Read())
			_, err = c.ReadErr()
			assert.Error(t, err, "the connection is closed after an over-long line")

			st := ts.Stats()
			assert.Equal(t, uint64(3), st.Answered)
			assert.Equal(t, uint64(8), st.Errors)
		})
	}
}

func TestOverlongLineBeyondTheBufferIsRefused(t *testing.T) {
	for _, text := range []string{"perconn", "loop"} {
		t.Run(text, func(t *testing.T) {
			ts := startWith(t, text, nil)
			c := testkit.Dial(t, ts.addr)
			c.Send(strings.Repeat("7", 3*server.DefaultMaxLineBytes))
			assert.Equal(t, "ERR request line too long: the limit is 4096 bytes", c.Read())
			_, err := c.ReadErr()
			assert.Error(t, err)
		})
	}
}

func TestSerialAndPoolOfOneServeOneConnectionAtATime(t *testing.T) {
	for _, text := range []string{"serial", "pool:1"} {
		t.Run(text, func(t *testing.T) {
			g := testkit.NewGate()
			ts := startWith(t, text, g)
			first := testkit.Dial(t, ts.addr)
			first.Send("hold")
			g.WaitStarted(t)

			second := testkit.Dial(t, ts.addr)
			second.Send("second")
			g.ReleaseOne(t)
			assert.Equal(t, "released hold", first.Read())
			// The first connection is still open, so it is still
			// served alone.
			assert.Equal(t, "again", first.Ask("again"))
			if text == "serial" {
				assert.Equal(t, uint64(1), ts.Stats().Accepted, "Serial leaves the second connection in the kernel's queue")
			}
			first.Conn().Close()
			assert.Equal(t, "second", second.Read(), "the second connection is served once the first closes")
			assert.Equal(t, uint64(2), ts.Stats().Accepted)

			events := g.Events()
			assert.Less(t, indexOf(t, events, "end again"), indexOf(t, events, "start second"),
				"the second connection's request ran before the first connection closed: %v", events)
		})
	}
}

func TestLoopStallsEveryConnectionWhileATaskRuns(t *testing.T) {
	g := testkit.NewGate()
	ts := startWith(t, "loop", g)
	other := testkit.Dial(t, ts.addr)
	assert.Equal(t, "warm", other.Ask("warm"), "the other connection is being read by the loop")
	holder := testkit.Dial(t, ts.addr)
	holder.Send("hold")
	g.WaitStarted(t)

	// Release the held task only once the other request is in the
	// server's socket, so that only the loop keeps it from running: the
	// loop itself reads nothing while it runs a task.
	other.Send("stalled")
	delivered(t, other.Conn())
	assert.NotContains(t, g.Events(), "start stalled", "the loop ran another request while a task held it")
	g.ReleaseOne(t)
	assert.Equal(t, "released hold", holder.Read())
	assert.Equal(t, "stalled", other.Read())

	events := g.Events()
	assert.Less(t, indexOf(t, events, "end hold"), indexOf(t, events, "start stalled"),
		"the loop ran another request while a task held it: %v", events)
}

func TestConcurrentStrategiesAnswerOthersWhileOneRequestIsHeld(t *testing.T) {
	for _, text := range concurrentStrategies {
		t.Run(text, func(t *testing.T) {
			g := testkit.NewGate()
			ts := startWith(t, text, g)
			holder := testkit.Dial(t, ts.addr)
			holder.Send("hold")
			g.WaitStarted(t)

			other := testkit.Dial(t, ts.addr)
			for i := range 5 {
				msg := fmt.Sprint("small ", i)
				assert.Equal(t, msg, other.Ask(msg), "answered while another request is held")
			}
			g.ReleaseOne(t)
			assert.Equal(t, "released hold", holder.Read())
		})
	}
}

func TestClientDisconnectCancelsItsTask(t *testing.T) {
	for _, text := range allStrategies {
		if text == "loop" {
			// A loop that runs a task itself watches no socket
			// meanwhile, as asyncio's does: it learns of the
			// disconnect once the task has returned.
			continue
		}
		t.Run(text, func(t *testing.T) {
			g := testkit.NewGate()
			ts := startWith(t, text, g)
			c := testkit.Dial(t, ts.addr)
			c.Send("hold gone")
			g.WaitStarted(t)
			c.Conn().Close()
			assert.Equal(t, "hold gone", g.WaitCancelled(t))

			// The server goes on: a new client is served.
			assert.Equal(t, "next", testkit.Dial(t, ts.addr).Ask("next"))
		})
	}
}

func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	for _, text := range []string{"perconn", "loop+goroutines:2", "pool:2", "serial"} {
		t.Run(text, func(t *testing.T) {
			g := testkit.NewGate()
			ts := startWith(t, text, g)
			var idle *testkit.Client
			if text != "serial" {
				idle = testkit.Dial(t, ts.addr)
				assert.Equal(t, "hello", idle.Ask("hello"))
			}
			busy := testkit.Dial(t, ts.addr)
			busy.Send("hold")
			g.WaitStarted(t)

			shut := make(chan error, 1)
			go func() { shut <- ts.Shutdown(context.Background()) }()
			<-ts.closed
			_, err := net.Dial("tcp", ts.addr)
			assert.ErrorIs(t, err, syscall.ECONNREFUSED, "new connections are refused")
			if idle != nil {
				_, err = idle.ReadErr()
				assert.Error(t, err, "an idle connection is closed")
			}

			g.ReleaseOne(t)
			assert.Equal(t, "released hold", busy.Read(), "the request in flight is answered")
			_, err = busy.ReadErr()
			assert.Error(t, err, "then its connection is closed")
			assert.NoError(t, <-shut)
			assert.ErrorIs(t, ts.serveResult(t), server.ErrServerClosed)
			assert.Zero(t, ts.Stats().Open)
		})
	}
}

func TestShutdownPastItsDeadlineCancelsTasks(t *testing.T) {
	g := testkit.NewGate()
	ts := startWith(t, "perconn", g)
	c := testkit.Dial(t, ts.addr)
	c.Send("hold")
	g.WaitStarted(t)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, ts.Shutdown(ctx), context.Canceled)
	assert.Equal(t, "hold", g.WaitCancelled(t))
	assert.Equal(t, "ERR cancelled: the server is closing", c.Read())
	assert.ErrorIs(t, ts.serveResult(t), server.ErrServerClosed)
}

func TestCloseEndsEverythingAtOnce(t *testing.T) {
	g := testkit.NewGate()
	ts := startWith(t, "loop+goroutines:2", g)
	c := testkit.Dial(t, ts.addr)
	c.Send("hold")
	g.WaitStarted(t)
	idle := testkit.Dial(t, ts.addr)
	assert.Equal(t, "x", idle.Ask("x"))

	require.NoError(t, ts.Close())
	assert.Equal(t, "hold", g.WaitCancelled(t))
	_, err := c.ReadErr()
	assert.Error(t, err)
	_, err = idle.ReadErr()
	assert.Error(t, err)
	assert.ErrorIs(t, ts.serveResult(t), server.ErrServerClosed)
	assert.Zero(t, ts.Stats().Open)
}

func TestServeAfterShutdownReturnsErrServerClosed(t *testing.T) {
	var srv server.Server
	require.NoError(t, srv.Shutdown(context.Background()))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	assert.ErrorIs(t, srv.Serve(l), server.ErrServerClosed)
	_, err = l.Accept()
	assert.Error(t, err, "Serve closes the listener")
	assert.ErrorIs(t, srv.ListenAndServe(), server.ErrServerClosed)
}

func TestServeTwiceFails(t *testing.T) {
	ts := startWith(t, "perconn", nil)
	require.Equal(t, "2", testkit.Dial(t, ts.addr).Ask("1"), "the first Serve is running")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	assert.ErrorContains(t, ts.Serve(l), "Serve called more than once")
	assert.Equal(t, ts.addr, ts.ListenerAddr().String())
}

func TestListenAndServeReportsABadAddress(t *testing.T) {
	srv := server.Server{Addr: "127.0.0.1:no-such-port"}
	assert.ErrorContains(t, srv.ListenAndServe(), "no-such-port")
}

func TestPanickingTaskIsAnsweredWithErrAndLogged(t *testing.T) {
	var log syncBuffer
	task := primetime.TaskFunc("fragile", func(_ context.Context, p []byte) ([]byte, error) {
		if string(p) == "boom" {
			panic("fragile task broke")
		}
		return p, nil
	})
	for _, text := range []string{"perconn", "loop", "loop+goroutines:2"} {
		t.Run(text, func(t *testing.T) {
			s, err := strategy.Parse(text)
			require.NoError(t, err)
			ts := start(t, &server.Server{Strategy: s, Task: task, Logger: slog.New(slog.NewTextHandler(&log, nil))})
			c := testkit.Dial(t, ts.addr)
			assert.Equal(t, "ERR task fragile panicked: fragile task broke", c.Ask("boom"))
			assert.Equal(t, "fine", c.Ask("fine"), "the connection and the server go on")
			assert.Contains(t, log.String(), `msg="task panicked" task=fragile panic="fragile task broke"`)
			assert.Contains(t, log.String(), "server_test.TestPanickingTaskIsAnsweredWithErrAndLogged", "the stack is logged")
		})
	}
}

// flakyListener fails its first accepts with a temporary error.
type flakyListener struct {
	net.Listener
	mu       sync.Mutex
	failures int
	err      error
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.failures > 0 {
		l.failures--
		l.mu.Unlock()
		return nil, l.err
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

func TestTemporaryAcceptErrorsAreRetried(t *testing.T) {
	for _, text := range []string{"perconn", "loop"} {
		t.Run(text, func(t *testing.T) {
			var log syncBuffer
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			emfile := &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
			st, err := strategy.Parse(text)
			require.NoError(t, err)
			srv := &server.Server{Strategy: st, Logger: slog.New(slog.NewTextHandler(&log, nil))}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(&flakyListener{Listener: l, failures: 4, err: emfile}) }()

			c := testkit.Dial(t, l.Addr().String())
			assert.Equal(t, "29", c.Ask("10"), "the server survives a full descriptor table")
			assert.Equal(t, 4, strings.Count(log.String(), "accept failed; retrying"))
			assert.Contains(t, log.String(), "delay=40ms", "the delay doubles")

			require.NoError(t, srv.Shutdown(context.Background()))
			assert.ErrorIs(t, <-served, server.ErrServerClosed)
		})
	}
}

func TestPermanentAcceptErrorEndsServeAndClosesConnections(t *testing.T) {
	for _, text := range []string{"perconn", "loop"} {
		t.Run(text, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			broken := errors.New("listener broke")
			fl := &flakyListener{Listener: l, err: broken}
			st, err := strategy.Parse(text)
			require.NoError(t, err)
			srv := &server.Server{Strategy: st, Logger: discard}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(fl) }()

			c := testkit.Dial(t, l.Addr().String())
			assert.Equal(t, "2", c.Ask("1"))
			fl.mu.Lock()
			fl.failures = 1
			fl.mu.Unlock()
			// Wake the pending Accept with a connection; the next Accept fails.
			testkit.Dial(t, l.Addr().String())

			assert.ErrorIs(t, <-served, broken)
			_, err = c.ReadErr()
			assert.Error(t, err, "open connections are closed")
			assert.Zero(t, srv.Stats().Open)
		})
	}
}

func TestIdleConnectionIsClosedAfterIdleTimeout(t *testing.T) {
	for _, text := range []string{"perconn", "loop"} {
		t.Run(text, func(t *testing.T) {
			ts := start(t, &server.Server{Strategy: parse(t, text), IdleTimeout: 1}) // 1ns: closed at the first wait
			c := testkit.Dial(t, ts.addr)
			_, err := c.ReadErr()
			assert.Error(t, err)
		})
	}
}

func TestStatsCountConnectionsAndAnswers(t *testing.T) {
	for _, text := range []string{"perconn", "loop"} {
		t.Run(text, func(t *testing.T) {
			ts := startWith(t, text, nil)
			a, b := testkit.Dial(t, ts.addr), testkit.Dial(t, ts.addr)
			assert.Equal(t, "2", a.Ask("1"))
			assert.Equal(t, "3", b.Ask("2"))
			assert.True(t, strings.HasPrefix(b.Ask("x"), "ERR"))
			st := ts.Stats()
			assert.Equal(t, server.Stats{Accepted: 2, Open: 2, Requests: 3, Answered: 2, Errors: 1}, st)
		})
	}
}

func TestShutdownUnderLoadAnswersEveryRequestItRead(t *testing.T) {
	for _, text := range []string{"perconn", "loop", "loop+goroutines:2", "procpool:2", "loop+procs:2"} {
		t.Run(text, func(t *testing.T) {
			ts := startWith(t, text, nil)
			const clients = 8
			var received atomic.Int64
			var wg sync.WaitGroup
			started := make(chan struct{}, clients)
			for range clients {
				wg.Go(func() {
					c, err := net.Dial("tcp", ts.addr)
					if !assert.NoError(t, err) {
						started <- struct{}{}
						return
					}
					defer c.Close()
					br := bufio.NewReader(c)
					for i := 0; ; i++ {
						if _, err := c.Write([]byte("100\n")); err != nil {
							return
						}
						line, err := br.ReadString('\n')
						if err != nil {
							assert.Empty(t, line, "no answer is cut short")
							return
						}
						assert.Equal(t, "541\n", line)
						received.Add(1)
						if i == 10 {
							started <- struct{}{}
						}
					}
				})
			}
			for range clients {
				<-started
			}
			require.NoError(t, ts.Shutdown(context.Background()))
			wg.Wait()
			st := ts.Stats()
			assert.Equal(t, st.Requests, st.Answered+st.Errors+st.Lost, "every request read was answered, or its answer lost")
			assert.Equal(t, uint64(received.Load()), st.Answered, "and every answer reached its client")
			assert.Zero(t, st.Open)
		})
	}
}

func TestPoolServesQueuedConnectionsInOrder(t *testing.T) {
	g := testkit.NewGate()
	ts := startWith(t, "pool:1", g)
	first := testkit.Dial(t, ts.addr)
	first.Send("hold")
	g.WaitStarted(t)
	var queued []*testkit.Client
	for i := range 4 {
		c := testkit.Dial(t, ts.addr)
		c.Send(fmt.Sprint("queued ", i))
		queued = append(queued, c)
	}
	g.ReleaseOne(t)
	assert.Equal(t, "released hold", first.Read())
	first.Conn().Close()
	for i, c := range queued {
		assert.Equal(t, fmt.Sprint("queued ", i), c.Read())
		c.Conn().Close()
	}
	events := g.Events()
	for i := 1; i < 4; i++ {
		assert.Less(t, indexOf(t, events, fmt.Sprint("start queued ", i-1)), indexOf(t, events, fmt.Sprint("start queued ", i)),
			"connections are served in the order they arrived: %v", events)
	}
}

func TestStartedClosesOnceTheStrategyIsReady(t *testing.T) {
	for _, text := range []string{"perconn", "loop", "procpool:1"} {
		t.Run(text, func(t *testing.T) {
			s, err := strategy.Parse(text)
			require.NoError(t, err)
			srv := &server.Server{Strategy: s, Logger: slog.New(slog.DiscardHandler)}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			served := make(chan error, 1)
			go func() { served <- srv.Serve(l) }()
			select {
			case <-srv.Started():
			case err := <-served:
				t.Fatalf("Serve returned before it started: %v", err)
			}
			assert.Equal(t, "29", testkit.Dial(t, l.Addr().String()).Ask("10"))
			require.NoError(t, srv.Shutdown(context.Background()))
			assert.ErrorIs(t, <-served, server.ErrServerClosed)
		})
	}
}

func TestStartedStaysOpenWhenServeFailsFirst(t *testing.T) {
	srv := &server.Server{Protocol: "ftp"}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	assert.Error(t, srv.Serve(l))
	select {
	case <-srv.Started():
		t.Fatal("Started is closed, yet Serve never served")
	default:
	}
}
