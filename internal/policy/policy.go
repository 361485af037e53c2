// Package policy is the one connection policy of the servers: the limits
// and times that every connection keeps, whether a goroutine of its own or
// an event loop does its I/O. The server resolves its settings into a
// Policy once, and the goroutine conn, the listener and the reactor read
// it; none keeps a copy of a limit.
package policy

import "time"

// Policy is what the server promises each connection.
type Policy struct {
	// IdleTimeout is how long a connection may wait for the first byte of
	// its next request; 0 means no limit.
	IdleTimeout time.Duration
	// ReadTimeout is how long a request may take to arrive whole, from its
	// first byte, however it trickles; 0 means no limit.
	ReadTimeout time.Duration
	// WriteTimeout is how long writing one answer may take; 0 means no
	// limit.
	WriteTimeout time.Duration
}

const (
	// WatchDelay is how long a request runs before the server watches its
	// connection to notice the client going: a client that leaves during
	// a shorter request costs at most this much work. Watching sooner
	// costs the requests that merely wait for their turn under load a
	// read each (BENCHMARKS.md says how much, at 1 ms).
	WatchDelay = 10 * time.Millisecond
	// ClockEvery is how many of a task's checkpoints pass between two
	// readings of the time for its watch: a task checkpoints every few
	// microseconds, and a small request once, so that reading the time
	// costs nothing measurable per request.
	ClockEvery = 16
	// LingerTimeout and LingerBytes bound the draining of a connection
	// closed after an error answer: its write side is shut and what the
	// client still sends is read and dropped, so that closing with unread
	// input does not send a reset that destroys the answer.
	LingerTimeout = 500 * time.Millisecond
	LingerBytes   = 64 << 10
	// maxSlack caps Slack.
	maxSlack = time.Second
)

// Limit resolves a time limit setting d: zero means def, and a negative
// value no limit, returned as 0.
func Limit(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// Slack returns how far a deadline of the given length may fall short of
// its full length before it is moved: an eighth of it, at most a second.
// Moving a deadline costs (a runtime timer, a heap fix), so a busy
// connection moves it about once a second rather than on every request.
func Slack(limit time.Duration) time.Duration { return min(limit/8, maxSlack) }

// SweepPeriod is how often a server looks for connections that have
// waited longer than the idle timeout given: its slack, and at least a
// millisecond. A connection is closed after waiting at least the idle
// timeout, and at most two periods more.
func SweepPeriod(idle time.Duration) time.Duration { return max(Slack(idle), time.Millisecond) }

// Accept retry delays, as net/http's: a temporary error is retried after
// BackoffMin, doubling up to BackoffMax; a success resets the delay.
const (
	BackoffMin = 5 * time.Millisecond
	BackoffMax = time.Second
)

// A Backoff is the delay between the retries of a temporary failure. The
// zero value is ready to use.
type Backoff struct{ d time.Duration }

// Next returns the delay before the next retry.
func (b *Backoff) Next() time.Duration {
	b.d = min(max(2*b.d, BackoffMin), BackoffMax)
	return b.d
}

// Reset starts the delays again from the shortest, after a success.
func (b *Backoff) Reset() { b.d = 0 }
