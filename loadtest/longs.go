package loadtest

import (
	"context"
	"fmt"
	"time"
)

// longsClient sends the long request back to back, from the end of the
// warm-up until the run ends, as a CPU-bound thread of ccbench runs: the
// load that makes an I/O-bound thread wait for the lock (the convoy
// effect). Its request in flight when the run ends is abandoned, as a
// client that leaves; a failure stops it and is noted once.
func (r *generator) longsClient(ctx context.Context) {
	if sleepUntil(ctx, r.warmupEnd) {
		return
	}
	c := r.newConn(r.longAt)
	defer c.close()
	stop := context.AfterFunc(ctx, c.interrupt)
	defer stop()
	fail := func(err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.longsError == "" {
			r.longsError = err.Error()
		}
	}
	for ctx.Err() == nil {
		if err := c.dial(ctx); err != nil {
			if ctx.Err() == nil && !r.ended(time.Now()) {
				fail(err)
			}
			return
		}
		a, err := c.ask(r.longAt.request)
		switch {
		case ctx.Err() != nil || r.ended(time.Now()):
			return // the run is over: its deadline ended the wait
		case err != nil:
			fail(err)
			return
		case a.Refused:
			fail(fmt.Errorf("refused: %s", a.Body))
			return
		}
		r.mu.Lock()
		r.longsAnswered++
		r.mu.Unlock()
	}
}
