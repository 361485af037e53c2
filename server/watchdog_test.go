package server

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deadlineConn records the deadlines the watchdog sets.
type deadlineConn struct {
	net.Conn
	read, write time.Time
}

func (c *deadlineConn) Close() error                       { return nil }
func (c *deadlineConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (c *deadlineConn) SetReadDeadline(t time.Time) error  { c.read = t; return nil }
func (c *deadlineConn) SetWriteDeadline(t time.Time) error { c.write = t; return nil }

// TestTheWatchdogEndsWaitsReadsAndWritesByTheirOwnLimits sets conns' marks
// at known times of the server's clock and scans them: a wait for a
// request is ended past the idle timeout, a request that has begun to
// arrive past the read timeout, however long it waited before its first
// byte, a write past the write timeout; each a tick late rather than
// early, and none before its time.
func TestTheWatchdogEndsWaitsReadsAndWritesByTheirOwnLimits(t *testing.T) {
	s := &Server{IdleTimeout: 10 * time.Second, ReadTimeout: time.Second, WriteTimeout: 2 * time.Second,
		Logger: slog.New(slog.DiscardHandler)}
	s.initLocked()
	s.pol = s.resolvePolicy()
	s.epoch = time.Now()
	s.watching.Store(true) // the clock is s.clock
	conns := map[int64]*deadlineConn{}
	at := func(phase int64, since time.Duration) *conn {
		nc := &deadlineConn{}
		c := newConn(s, nc)
		require.True(t, s.track(&c.session, c))
		c.mark.Store(markAt(phase, int64(since/time.Millisecond)))
		conns[phase] = nc
		return c
	}
	wait, read, write := at(waiting, 0), at(reading, 9*time.Second), at(writing, 0)
	defer func() {
		for _, c := range []*conn{wait, read, write} {
			c.Close()
		}
	}()
	period := sweptLimit(s.pol) / 8 // the sweep's slack, as SweepPeriod gives it
	require.Equal(t, policy125ms, period)
	scanAt := func(now time.Duration) {
		s.clock.Store(int64(now / time.Millisecond))
		s.scan(true, nil)
	}

	scanAt(2 * time.Second)
	assert.True(t, conns[writing].write.IsZero(), "a write of two seconds is within its limit")
	scanAt(2*time.Second + policy125ms)
	assert.False(t, conns[writing].write.IsZero(), "one past it is ended")
	assert.Equal(t, int64(ended), write.mark.Load())

	scanAt(10 * time.Second)
	assert.True(t, conns[reading].read.IsZero(), "a request that began at 9 s may take until 10 s and a sweep")
	assert.True(t, conns[waiting].read.IsZero(), "a wait of ten seconds is within its limit")
	scanAt(10*time.Second + 2*period + 10*time.Millisecond)
	assert.False(t, conns[reading].read.IsZero(), "past the read timeout from its first byte")
	assert.False(t, conns[waiting].read.IsZero(), "past the idle timeout")
}

const policy125ms = 125 * time.Millisecond
