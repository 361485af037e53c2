package server_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/server"
)

// TestShutdownAnswersEveryRequestSentBeforeIt: while the server is busy
// (a held task), clients connect and send two requests each, which wait
// unread in their sockets; then Shutdown begins, and only then is the
// held task released. Every request sent before Shutdown is answered, on
// a goroutine per connection, on connections queued for a pool and on
// the loop, and only then do the connections close.
func TestShutdownAnswersEveryRequestSentBeforeIt(t *testing.T) {
	for _, text := range []string{"perconn", "pool:1", "pool:2+goroutines:1", "loop", "loop+goroutines:1", "loops:2"} {
		t.Run(text, func(t *testing.T) {
			g := testkit.NewGate()
			ts := startWith(t, text, g)
			held := testkit.Dial(t, ts.addr)
			held.Send("hold")
			g.WaitStarted(t)
			const clients = 40
			var cs []*testkit.Client
			for i := range clients {
				c := testkit.Dial(t, ts.addr)
				_, err := io.WriteString(c.Conn(), fmt.Sprintf("a%d\nb%d\n", i, i))
				require.NoError(t, err)
				delivered(t, c.Conn())
				cs = append(cs, c)
			}
			<-waitUntil(func() bool { return ts.Stats().Accepted == clients+1 })
			require.Equal(t, uint64(clients+1), ts.Stats().Accepted, "every connection accepted")
			shut := make(chan error, 1)
			go func() { shut <- ts.Shutdown(context.Background()) }()
			<-ts.closed // Shutdown has begun
			g.ReleaseOne(t)
			assert.Equal(t, "released hold", held.Read())
			for i, c := range cs {
				assert.Equal(t, fmt.Sprintf("a%d", i), c.Read())
				assert.Equal(t, fmt.Sprintf("b%d", i), c.Read())
				_, err := c.ReadErr()
				assert.ErrorIs(t, err, io.EOF, "then the connection closes")
			}
			require.NoError(t, <-shut)
			st := ts.Stats()
			assert.Equal(t, uint64(2*clients+1), st.Answered)
			assert.Zero(t, st.Open)
		})
	}
}

// TestAnAnswerThatCannotBeWrittenIsCountedLost: Close closes a connection
// whose request is in flight; its cancelled request's error answer cannot
// be written, and counts as lost, not as an error answer sent.
func TestAnAnswerThatCannotBeWrittenIsCountedLost(t *testing.T) {
	for _, text := range []string{"perconn", "perconn+goroutines:1", "loop+goroutines:1"} {
		t.Run(text, func(t *testing.T) {
			g := testkit.NewGate()
			ts := startWith(t, text, g)
			c := testkit.Dial(t, ts.addr)
			c.Send("hold")
			g.WaitStarted(t)
			require.NoError(t, ts.Close())
			g.WaitCancelled(t)
			_, err := c.ReadErr()
			assert.Error(t, err, "no answer reaches the client")
			require.ErrorIs(t, ts.serveResult(t), server.ErrServerClosed)
			assert.Equal(t, server.Stats{Accepted: 1, Requests: 1, Lost: 1}, ts.Stats())
		})
	}
}
