package server

import (
	"fmt"
	"os"
	"time"

	"github.com/primetime-lab/primetime/internal/policy"
)

// The watchdog keeps the connection policy's times for the goroutine
// conns, as net/http's background read and deadlines do, without a clock
// read, a lock or a deadline per request: each conn keeps its phase, and
// since when by the server's millisecond clock, in one atomic word (its
// mark), which the watchdog reads every tick. Once a request has run the
// watch delay, the watchdog starts a read of its connection, which ends
// the request's context if the client has gone; it ends each write that
// takes longer than the write timeout, and each wait for a request longer
// than the idle timeout, however the request trickles in. The event loop
// keeps the same policy with timers of its own.

// The phases of a conn's mark.
const (
	waiting   = iota // for a request
	running          // a request is in flight; the client has sent more
	watchable        // a request is in flight; the client has sent nothing more
	writing          // an answer
)

// ended is the mark the watchdog leaves on a conn whose wait or write it
// ended, with a past deadline.
const ended = -1

// markAt makes a mark of phase at clock milliseconds.
func markAt(phase, at int64) int64 { return at<<2 | phase }

// watchdogRest is how many ticks without a request in flight the watchdog
// waits before it stops ticking until the next request.
const watchdogRest = 20

// now returns the server's clock, in milliseconds since it began to
// serve: the watchdog's last reading while it ticks, and the time itself
// while it rests. A reading lags by at most a tick, and times are checked
// with a tick to spare, so that none ends early.
func (s *Server) now() int64 {
	if s.watching.Load() {
		return s.clock.Load()
	}
	return int64(time.Since(s.epoch) / time.Millisecond)
}

// mark sets c's phase, since now, and wakes the watchdog if it rests and
// the phase is one it times. It returns the mark before.
func (s *Server) mark(c *conn, phase int64) int64 {
	if s.watching.Load() {
		return c.mark.Swap(markAt(phase, s.clock.Load()))
	}
	old := c.mark.Swap(markAt(phase, int64(time.Since(s.epoch)/time.Millisecond)))
	if phase != waiting {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return old
}

// watch is the server's watchdog. While requests are in flight it ticks
// every policy.WatchDelay: it starts the background read of each
// connection whose request has run twice that, so at least the watch
// delay, and ends each write that has taken longer than the write timeout.
// All the while, once a policy.SweepPeriod, it closes the connections that
// have waited longer than the idle timeout for a request. Two tickers for
// the server cost far less than a timer per request, whose resets wake the
// runtime's network poller.
func (s *Server) watch(done <-chan struct{}) {
	tick := time.NewTicker(policy.WatchDelay)
	tick.Stop()
	defer tick.Stop()
	var sweep <-chan time.Time
	if idle := s.pol.IdleTimeout; idle > 0 {
		t := time.NewTicker(policy.SweepPeriod(idle))
		defer t.Stop()
		sweep = t.C
	}
	var due []*conn
	ticking, rest := false, 0
	start := func() {
		s.clock.Store(int64(time.Since(s.epoch) / time.Millisecond))
		ticking, rest = true, 0
		s.watching.Store(true)
		tick.Reset(policy.WatchDelay)
	}
	for {
		select {
		case <-done:
			return
		case <-s.wake:
			if !ticking {
				start()
			}
		case <-sweep:
			s.clock.Store(int64(time.Since(s.epoch) / time.Millisecond))
			due, _ = s.scan(true, due[:0])
		case <-tick.C:
			s.clock.Store(int64(time.Since(s.epoch) / time.Millisecond))
			var active int
			due, active = s.scan(false, due[:0])
			if active > 0 {
				rest = 0
			} else if rest++; rest >= watchdogRest {
				tick.Stop()
				ticking = false
				s.watching.Store(false)
				// A request that started before watching was cleared
				// saw it set and woke nobody: look once more.
				if _, active := s.scan(false, due[:0]); active > 0 {
					start()
				}
			}
		}
		for _, c := range due {
			c.cr.startBackgroundRead()
		}
		due = due[:0]
	}
}

// scan reads every goroutine conn's mark by the clock: it ends the writes
// that have taken longer than the write timeout, with sweep the waits that
// have lasted longer than the idle timeout, and appends to due the conns
// whose request has run long enough to be watched. It returns them and
// how many conns have a request in flight or an answer being written.
func (s *Server) scan(sweep bool, due []*conn) ([]*conn, int) {
	now := s.clock.Load()
	tick := int64(policy.WatchDelay / time.Millisecond)
	idle := int64(s.pol.IdleTimeout/time.Millisecond) + int64(policy.SweepPeriod(s.pol.IdleTimeout)/time.Millisecond) + tick
	write := int64(s.pol.WriteTimeout/time.Millisecond) + tick
	active := 0
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		if c == nil {
			continue // the event loop's: it times its own
		}
		m := c.mark.Load()
		if m == ended {
			continue
		}
		phase, elapsed := m&3, now-m>>2
		switch {
		case phase == watchable || phase == running:
			active++
			if phase == watchable && elapsed >= 2*tick {
				due = append(due, c)
			}
		case phase == writing:
			active++
			if s.pol.WriteTimeout > 0 && elapsed >= write && c.mark.CompareAndSwap(m, ended) {
				c.nc.SetWriteDeadline(aLongTimeAgo)
			}
		case sweep && s.pol.IdleTimeout > 0 && elapsed >= idle && c.mark.CompareAndSwap(m, ended):
			c.nc.SetReadDeadline(aLongTimeAgo)
		}
	}
	return due, active
}

// errWriteTimeout is the error of an answer whose write the watchdog ended.
func (s *Server) errWriteTimeout() error {
	return fmt.Errorf("server: writing an answer took longer than the write timeout of %v: %w", s.pol.WriteTimeout, os.ErrDeadlineExceeded)
}
