package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/reactor"
	"github.com/primetime-lab/primetime/internal/testkit"
)

// loopStrategies are the strategies served by event loops.
var loopStrategies = []string{"loop", "loop+goroutines:2", "loops:2"}

// openAsking opens n connections to addr, asks one request on each and
// reads its answer, and leaves them open.
func openAsking(t *testing.T, addr string, n int) []*testkit.Client {
	t.Helper()
	conns := make([]*testkit.Client, n)
	for i := range conns {
		conns[i] = testkit.Dial(t, addr)
		require.Equal(t, "2", conns[i].Ask("1"))
	}
	return conns
}

func TestLoopGoroutinesDoNotGrowWithConnections(t *testing.T) {
	if !reactor.Supported {
		t.Skip("the portable loop reads each connection on a goroutine")
	}
	for _, text := range loopStrategies {
		t.Run(text, func(t *testing.T) {
			ts := startWith(t, text, nil)
			first := openAsking(t, ts.addr, 100)
			with100 := runtime.NumGoroutine()
			more := openAsking(t, ts.addr, 2000)
			with2100 := runtime.NumGoroutine()
			assert.InDelta(t, with100, with2100, 2, "goroutines with 100 connections, then with 2,100")
			for _, c := range append(first, more...) {
				c.Conn().Close()
			}
		})
	}
}

// openDescriptors counts this process's open descriptors.
func openDescriptors(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("needs /proc:", err)
	}
	return len(fds)
}

func TestLoopLeavesNoDescriptorOpenAfterShutdown(t *testing.T) {
	for _, text := range append(loopStrategies, "perconn") {
		t.Run(text, func(t *testing.T) {
			serve := func() {
				ts := startWith(t, text, nil)
				conns := openAsking(t, ts.addr, 50)
				require.NoError(t, ts.Shutdown(context.Background()))
				for _, c := range conns {
					_, err := c.ReadErr()
					assert.ErrorIs(t, err, io.EOF, "the server closed it")
					c.Conn().Close()
				}
			}
			serve() // the first run opens what the runtime keeps, such as its poller
			before := openDescriptors(t)
			serve()
			assert.Equal(t, before, openDescriptors(t))
		})
	}
}

func TestLoopAnswersConnectionsInTheOrderTheirRequestsCame(t *testing.T) {
	if !reactor.Supported {
		t.Skip("the portable loop orders requests as its readers queue them")
	}
	g := testkit.NewGate()
	ts := startWith(t, "loop", g)
	holder := testkit.Dial(t, ts.addr)
	holder.Send("hold")
	g.WaitStarted(t)
	// While the loop runs the held task, each client's request reaches the
	// server's socket before the next client sends.
	const n = 20
	clients := make([]*testkit.Client, n)
	for i := range clients {
		clients[i] = testkit.Dial(t, ts.addr)
	}
	for i, c := range clients {
		c.Send(strconv.Itoa(i))
		delivered(t, c.Conn())
	}
	g.ReleaseOne(t)
	assert.Equal(t, "released hold", holder.Read())
	want := []string{"start hold", "end hold"}
	for i, c := range clients {
		assert.Equal(t, strconv.Itoa(i), c.Read())
		want = append(want, fmt.Sprint("start ", i), fmt.Sprint("end ", i))
	}
	assert.Equal(t, want, g.Events(), "one at a time, in the order they came")
}

func TestPipelinedRequestsAreAnsweredInOrder(t *testing.T) {
	for _, text := range append(loopStrategies, "perconn") {
		t.Run(text, func(t *testing.T) {
			ts := startWith(t, text, nil)
			c := testkit.Dial(t, ts.addr)
			var batch strings.Builder
			for n := 1; n <= 300; n++ {
				fmt.Fprintf(&batch, "%d\n", n)
			}
			_, err := io.WriteString(c.Conn(), batch.String())
			require.NoError(t, err)
			for n := 1; n <= 300; n++ {
				p, err := primetime.NthPrime(context.Background(), n)
				require.NoError(t, err)
				require.Equal(t, strconv.Itoa(p), c.Read(), "answer %d", n)
			}
		})
	}
}

func TestHalfClosedConnectionGetsItsAnswers(t *testing.T) {
	for _, text := range append(loopStrategies, "perconn", "pool:2") {
		t.Run(text, func(t *testing.T) {
			ts := startWith(t, text, nil)
			c := testkit.Dial(t, ts.addr)
			_, err := io.WriteString(c.Conn(), "1\n10\n100")
			require.NoError(t, err)
			require.NoError(t, c.Conn().(*net.TCPConn).CloseWrite())
			for _, want := range []string{"2", "29", "541"} {
				assert.Equal(t, want, c.Read(), "an unterminated last line at EOF is a request too")
			}
			_, err = c.ReadErr()
			assert.ErrorIs(t, err, io.EOF, "then the server closes")
		})
	}
}

func TestResetInTheMiddleOfARequest(t *testing.T) {
	for _, text := range append(loopStrategies, "perconn") {
		t.Run(text, func(t *testing.T) {
			ts := startWith(t, text, nil)
			other := testkit.Dial(t, ts.addr)
			assert.Equal(t, "2", other.Ask("1"))
			c := testkit.Dial(t, ts.addr)
			_, err := io.WriteString(c.Conn(), "12") // half a request
			require.NoError(t, err)
			delivered(t, c.Conn())
			<-waitUntil(func() bool { return ts.Stats().Accepted == 2 })
			require.Equal(t, uint64(2), ts.Stats().Accepted, "the server accepted the connection")
			require.NoError(t, c.Conn().(*net.TCPConn).SetLinger(0))
			require.NoError(t, c.Conn().Close()) // a reset
			<-waitUntil(func() bool { return ts.Stats().Open == 1 })
			assert.Equal(t, int64(1), ts.Stats().Open, "the reset connection is closed")
			assert.Equal(t, "29", other.Ask("10"), "the others go on")
			assert.Zero(t, ts.Stats().Errors)
		})
	}
}

func TestLoopsStallOnlyTheConnectionsOfTheLoopThatRunsATask(t *testing.T) {
	if !reactor.Supported {
		t.Skip("the portable loops take connections as they come to a reader")
	}
	g := testkit.NewGate()
	ts := startWith(t, "loops:2", g)
	held := testkit.Dial(t, ts.addr)
	held.Send("hold")
	g.WaitStarted(t) // the first loop runs it, and reads nothing meanwhile
	other := testkit.Dial(t, ts.addr)
	assert.Equal(t, "x", other.Ask("x"), "the second connection goes to the other loop, which answers it")
	g.ReleaseOne(t)
	assert.Equal(t, "released hold", held.Read())
}
