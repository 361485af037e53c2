package server

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/policy"
)

// TestATaskSeesItsClientLeaveAtItsOwnCheckpoint runs the watch a goroutine
// conn's task checkpoints with, by hand: no watchdog and no background
// read, which with many tasks runnable would wait their turn. Before the
// watch delay it looks at nothing; after it, once the client has reset,
// a checkpoint ends the request's context.
func TestATaskSeesItsClientLeaveAtItsOwnCheckpoint(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	require.NoError(t, err)
	nc, err := l.Accept()
	require.NoError(t, err)
	s := &Server{Logger: slog.New(slog.DiscardHandler)}
	s.mu.Lock()
	s.initLocked()
	s.epoch = time.Now()
	s.mu.Unlock()
	c := newConn(s, nc)
	defer c.Close()
	require.NotNil(t, c.self, "a TCP conn watches itself")
	req := c.request([]byte("1000000"))
	c.mark.Store(markAt(watchable, 0)) // the request began at the clock's zero

	checkpoint := func() {
		for range 2 * policy.ClockEvery { // a look reads the time every ClockEvery checkpoints
			gil.Checkpoint(req.Context)
		}
	}
	checkpoint()
	assert.NoError(t, req.Context.Err(), "the client is there")

	client.(*net.TCPConn).SetLinger(0)
	client.Close()
	deadline := time.Now().Add(10 * time.Second)
	for req.Context.Err() == nil && time.Now().Before(deadline) {
		c.self.next.Store(0) // look now, not a watch delay after the last look
		checkpoint()
	}
	require.ErrorIs(t, req.Context.Err(), context.Canceled)
	assert.ErrorIs(t, context.Cause(req.Context), errClientLeft)
}
