package server_test

import (
	"context"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/server"
)

// cancelledAnswer is what a request gets whose client has left.
const cancelledAnswer = "ERR cancelled: the connection was closed before the answer; keep it open until the answer arrives"

// TestAClientThatLeavesHasItsWorkStopped sends a request that would run for
// hours, then leaves: by a FIN (a half-close, which the server cannot tell
// from a close), after which the client still reads the answer that says
// why it got none, or by a reset. On every strategy the request is
// cancelled and answered with an error, and the server, its loop and its
// workers go on serving.
func TestAClientThatLeavesHasItsWorkStopped(t *testing.T) {
	for _, text := range append(append([]string(nil), allStrategies...), append(processStrategies, "loops:2")...) {
		for _, how := range []string{"fin", "rst"} {
			t.Run(text+"/"+how, func(t *testing.T) {
				ts := startWith(t, text, nil)
				c := testkit.Dial(t, ts.addr)
				c.Send("1000000")
				<-waitUntil(func() bool { return ts.Stats().Requests == 1 })
				require.Equal(t, uint64(1), ts.Stats().Requests, "the long request is in flight")
				tc := c.Conn().(*net.TCPConn)
				if how == "fin" {
					require.NoError(t, tc.CloseWrite())
					assert.Equal(t, cancelledAnswer, c.Read(), "the answer says why there is none")
					_, err := c.ReadErr()
					assert.ErrorIs(t, err, io.EOF, "and the server closes the connection")
				} else {
					tc.SetLinger(0)
					tc.Close()
				}
				// After a FIN the error answer is read; after a reset it
				// cannot be written, and is lost.
				want := server.Stats{Accepted: 1, Requests: 1, Errors: 1}
				if how == "rst" {
					want.Errors, want.Lost = 0, 1
				}
				<-waitUntil(func() bool { st := ts.Stats(); return st.Errors+st.Lost == 1 && st.Open == 0 })
				assert.Equal(t, want, ts.Stats(), "the long request was stopped")
				assert.Equal(t, "29", testkit.Dial(t, ts.addr).Ask("10"), "and the server serves on")
			})
		}
	}
}

func TestAnHTTPClientThatLeavesGetsTheReasonIn503(t *testing.T) {
	for _, text := range []string{"perconn", "loop", "loop+goroutines:2"} {
		t.Run(text, func(t *testing.T) {
			ts := start(t, &server.Server{Strategy: parse(t, text), Protocol: server.ProtocolHTTP})
			c := testkit.Dial(t, ts.addr)
			_, err := io.WriteString(c.Conn(), "GET /prime/1000000 HTTP/1.1\r\nHost: x\r\n\r\n")
			require.NoError(t, err)
			<-waitUntil(func() bool { return ts.Stats().Requests == 1 })
			require.NoError(t, c.Conn().(*net.TCPConn).CloseWrite())
			all, err := io.ReadAll(c.Conn())
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(string(all), "HTTP/1.1 503 "), "%q", all)
			assert.Contains(t, string(all), "cancelled: the connection was closed before the answer")
		})
	}
}

// TestClientsThatLeaveWhileTheLoopRunsATaskCostItNothing: clients that
// send a request that would run for hours (with its newline or without)
// and leave, by a reset or a close, while every loop runs another client's
// task. Without a look at its sockets before each task, a loop would start
// each of their tasks in turn, each running a watch delay before its
// checkpoint saw the client go; each loop starts one at most, then closes
// the rest unstarted.
func TestClientsThatLeaveWhileTheLoopRunsATaskCostItNothing(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the event loop is Linux's")
	}
	const storm = 20
	for _, text := range []string{"loop", "loops:2"} {
		for _, how := range []string{"rst", "close", "close without newline"} {
			t.Run(text+"/"+how, func(t *testing.T) {
				g := testkit.NewGate()
				task := primetime.TaskFunc("gate-or-prime", func(ctx context.Context, p []byte) ([]byte, error) {
					if strings.HasPrefix(string(p), "hold") {
						return g.Run(ctx, p)
					}
					return primetime.Prime.Run(ctx, p)
				})
				ts := startWith(t, text, task)
				loops := strings.Count(text, ":2") + 1
				// Each loop runs a held task, and reads nothing meanwhile.
				var holders []*testkit.Client
				for range loops {
					h := testkit.Dial(t, ts.addr)
					h.Send("hold")
					g.WaitStarted(t)
					holders = append(holders, h)
				}
				var leaving []*testkit.Client
				for range storm {
					c := testkit.Dial(t, ts.addr)
					request := "1000000\n"
					if how == "close without newline" {
						request = "1000000"
					}
					_, err := io.WriteString(c.Conn(), request)
					require.NoError(t, err)
					delivered(t, c.Conn())
					leaving = append(leaving, c)
				}
				<-waitUntil(func() bool { return ts.Stats().Accepted == uint64(storm+loops) })
				require.Equal(t, uint64(storm+loops), ts.Stats().Accepted)
				for _, c := range leaving {
					tc := c.Conn().(*net.TCPConn)
					if how == "rst" {
						tc.SetLinger(0)
					} else {
						// The FIN is in the server's kernel before the loops
						// look again.
						require.NoError(t, tc.CloseWrite())
						delivered(t, tc)
					}
					tc.Close()
				}
				// A release goes to whichever held task takes it: release
				// them all, then read their answers.
				for range holders {
					g.ReleaseOne(t)
				}
				for _, h := range holders {
					assert.Equal(t, "released hold", h.Read())
				}
				<-waitUntil(func() bool { return ts.Stats().Open == int64(loops) })
				require.Equal(t, int64(loops), ts.Stats().Open, "every connection whose client left is closed")
				assert.LessOrEqual(t, ts.Stats().Requests, uint64(2*loops), "each loop's held task, and one more at most, started")
				assert.Equal(t, "29", testkit.Dial(t, ts.addr).Ask("10"))
			})
		}
	}
}
