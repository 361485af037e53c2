package worker

import (
	"errors"
	"sync/atomic"
)

// Counts are what a pool of worker processes counts while it serves, for
// the server to show; the zero value is ready to use, and a nil *Counts
// counts nothing.
type Counts struct {
	alive     atomic.Int64
	restarted atomic.Uint64
}

// Alive returns how many worker processes run now.
func (c *Counts) Alive() int64 { return c.alive.Load() }

// Restarted returns how many worker processes were started in place of one
// that died or was killed.
func (c *Counts) Restarted() uint64 { return c.restarted.Load() }

// Started counts a worker started, in place of another if restart is set.
func (c *Counts) Started(restart bool) {
	if c == nil {
		return
	}
	c.alive.Add(1)
	if restart {
		c.restarted.Add(1)
	}
}

// Ended counts a worker ended.
func (c *Counts) Ended() {
	if c != nil {
		c.alive.Add(-1)
	}
}

// ErrLogged is wrapped by the errors of requests that failed for a cause
// their executor has logged once already (a NATS server lost), so that the
// server does not log each of them again.
var ErrLogged = errors.New("already logged by the executor")
