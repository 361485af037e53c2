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
	waiting   = iota // for a request to begin
	reading          // a request has begun to arrive, and is not whole yet
	watchable        // a request is in flight
	writing          // an answer
	phaseBits = 3
	phaseMask = 1<<phaseBits - 1
)

// ended is the mark the watchdog leaves on a conn whose wait, read or
// write it ended, with a past deadline.
const ended = -1

// markAt makes a mark of phase at clock milliseconds.
func markAt(phase, at int64) int64 { return at<<phaseBits | phase }

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
	if phase >= watchable {
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
	if limit := sweptLimit(s.pol); limit > 0 {
		t := time.NewTicker(policy.SweepPeriod(limit))
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

// sweptLimit is the shorter of the idle and read timeouts that are set,
// whose slack the sweep keeps; 0 if neither is.
func sweptLimit(p policy.Policy) time.Duration {
	switch {
	case p.IdleTimeout <= 0:
		return p.ReadTimeout
	case p.ReadTimeout <= 0:
		return p.IdleTimeout
	}
	return min(p.IdleTimeout, p.ReadTimeout)
}

// scan reads every goroutine conn's mark by the clock: it ends the writes
// that have taken longer than the write timeout, with sweep the waits that
// have lasted longer than the idle timeout, and appends to due the conns
// whose request has run long enough to be watched. It returns them and
// how many conns have a request in flight or an answer being written.
func (s *Server) scan(sweep bool, due []*conn) ([]*conn, int) {
	now := s.clock.Load()
	tick := int64(policy.WatchDelay / time.Millisecond)
	period := int64(policy.SweepPeriod(sweptLimit(s.pol))/time.Millisecond) + tick
	idle := int64(s.pol.IdleTimeout/time.Millisecond) + period
	read := int64(s.pol.ReadTimeout/time.Millisecond) + period
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
		phase, elapsed := m&phaseMask, now-m>>phaseBits
		switch {
		case phase == watchable:
			active++
			if phase == watchable && elapsed >= 2*tick {
				due = append(due, c)
			}
		case phase == writing:
			active++
			if s.pol.WriteTimeout > 0 && elapsed >= write && c.mark.CompareAndSwap(m, ended) {
				c.nc.SetWriteDeadline(aLongTimeAgo)
			}
		case phase == waiting && sweep && s.pol.IdleTimeout > 0 && elapsed >= idle && c.mark.CompareAndSwap(m, ended):
			c.nc.SetReadDeadline(aLongTimeAgo)
		case phase == reading && sweep && s.pol.ReadTimeout > 0 && elapsed >= read && c.mark.CompareAndSwap(m, ended):
			c.nc.SetReadDeadline(aLongTimeAgo)
		}
	}
	return due, active
}

// errWriteTimeout is the error of an answer whose write the watchdog ended.
func (s *Server) errWriteTimeout() error {
	return fmt.Errorf("server: writing an answer took longer than the write timeout of %v: %w", s.pol.WriteTimeout, os.ErrDeadlineExceeded)
}
