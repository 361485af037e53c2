package server_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

func TestRequestTimeoutCancelsTheTaskAndAnswers(t *testing.T) {
	for _, text := range []string{"perconn", "loop", "loop+goroutines:2"} {
		t.Run(text, func(t *testing.T) {
			g := testkit.NewGate()
			s, err := strategy.Parse(text)
			require.NoError(t, err)
			ts := start(t, &server.Server{Strategy: s, Task: g, RequestTimeout: 20 * time.Millisecond})
			c := testkit.Dial(t, ts.addr)
			assert.Equal(t, "ERR request timed out after 20ms: context deadline exceeded", c.Ask("hold"))
			assert.Equal(t, "hold", g.WaitCancelled(t))
			assert.Equal(t, "next", c.Ask("next"), "the connection goes on")
		})
	}
}

func TestRequestTimeoutFreesTheWorkerProcess(t *testing.T) {
	s, err := strategy.Parse("procpool:1")
	require.NoError(t, err)
	ts := start(t, &server.Server{Strategy: s, Task: callback, RequestTimeout: 200 * time.Millisecond})
	c := testkit.Dial(t, ts.addr)
	pid := askPid(t, c)
	held, _ := holdInWorker(t, c)
	assert.Equal(t, pid, held)
	assert.Equal(t, "ERR request timed out after 200ms: context deadline exceeded", c.Read())
	got := askPid(t, c)
	assert.Equal(t, pid, got, "the same worker, freed by the cancellation")
}

func TestMaxConnsMakesFurtherClientsWait(t *testing.T) {
	for _, text := range []string{"perconn", "loop"} {
		t.Run(text, func(t *testing.T) {
			g := testkit.NewGate()
			s := &server.Server{Strategy: parse(t, text), Task: g, MaxConns: 1}
			ts := start(t, s)
			first := testkit.Dial(t, ts.addr)
			assert.Equal(t, "a", first.Ask("a"))

			waiting := testkit.Dial(t, ts.addr) // the kernel completes the handshake
			waiting.Send("b")
			assert.Equal(t, "a2", first.Ask("a2"))
			assert.Equal(t, uint64(1), ts.Stats().Accepted, "the second client waits to be accepted")

			first.Conn().Close()
			assert.Equal(t, "b", waiting.Read(), "it is served once the first closes")
			events := g.Events()
			assert.Less(t, indexOf(t, events, "end a2"), indexOf(t, events, "start b"))
		})
	}
}

func TestSlowClientIsClosedWithoutHurtingOthers(t *testing.T) {
	for _, text := range []string{"perconn", "loop"} {
		t.Run(text, func(t *testing.T) {
			// The slow client has begun its request, which the read
			// timeout bounds; the other one waits between its requests
			// for as long as the machine makes it, well within the idle
			// timeout.
			ts := start(t, &server.Server{Strategy: parse(t, text), IdleTimeout: testkit.Bound, ReadTimeout: 100 * time.Millisecond})
			slow := testkit.Dial(t, ts.addr)
			_, err := io.WriteString(slow.Conn(), "1") // and never the rest of the line
			require.NoError(t, err)
			closed := make(chan error, 1)
			go func() {
				_, err := slow.ReadErr()
				closed <- err
			}()
			// Another client keeps asking until the slow one is closed.
			other := testkit.Dial(t, ts.addr)
			for busy := true; busy; {
				assert.Equal(t, "29", other.Ask("10"))
				select {
				case err := <-closed:
					assert.Error(t, err, "the slow client's connection is closed by the read timeout")
					busy = false
				default:
				}
			}
			assert.Equal(t, "541", other.Ask("100"), "the other connection is unaffected")
		})
	}
}

func TestClientThatNeverReadsCannotBlockTheServer(t *testing.T) {
	big := primetime.TaskFunc("big", func(_ context.Context, p []byte) ([]byte, error) {
		if string(p) == "big" {
			return bytes.Repeat([]byte("x"), 64<<10), nil
		}
		return p, nil
	})
	// Under Loop the other client is served while the hog is stuck; under
	// pool:1 the hog holds the only place until its write times out.
	for _, text := range []string{"loop", "pool:1", "loop+goroutines:1"} {
		t.Run(text, func(t *testing.T) {
			st, err := strategy.Parse(text)
			require.NoError(t, err)
			ts := start(t, &server.Server{Strategy: st, Task: big, WriteTimeout: 100 * time.Millisecond})
			hog, err := net.Dial("tcp", ts.addr)
			require.NoError(t, err)
			defer hog.Close()
			// 1 MiB of requests for 64 KiB answers each, never read: the
			// server's writes to this client stop once the socket
			// buffers fill, and so, in time, do the hog's.
			pipelined := make(chan error, 1)
			go func() {
				hog.SetWriteDeadline(time.Now().Add(testkit.Bound))
				_, err := io.WriteString(hog, strings.Repeat("big\n", 1<<18))
				pipelined <- err
			}()

			other := testkit.Dial(t, ts.addr)
			for i := range 20 {
				msg := "small " + strconv.Itoa(i)
				assert.Equal(t, msg, other.Ask(msg), "the server goes on")
			}
			// The write deadline ends the hog's connection.
			<-waitUntil(func() bool { return ts.Stats().Open == 1 })
			assert.Equal(t, int64(1), ts.Stats().Open, "the server gave up on the client that does not read")
			assert.Equal(t, "after", other.Ask("after"))
			hog.Close()
			<-pipelined
		})
	}
}

// waitUntil returns a channel closed once cond holds, checking every
// millisecond, or after testkit.Bound.
func waitUntil(cond func() bool) <-chan struct{} {
	c := make(chan struct{})
	go func() {
		defer close(c)
		for deadline := time.Now().Add(testkit.Bound); !cond() && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}()
	return c
}
