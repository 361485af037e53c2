package server

import (
	"time"

	"github.com/primetime-lab/primetime/internal/gil"
)

// PythonCosts are interpreter work that CPython does and a Go server does
// not, charged in Python mode on the CPU with the lock held, where CPython
// spends it. The defaults were measured against CPython 3.11 (see
// BENCHMARKS.md); a zero field means its default, a negative one no cost.
type PythonCosts struct {
	// Handover is how long a thread that the lock's release woke takes to
	// run again: CPython's threads are OS threads, woken on a condition
	// variable. Meanwhile a running thread may take the free lock, as one
	// back from a quick system call does; after it, the woken thread has it.
	Handover time.Duration
	// LoopRequest is what the event loop spends on each request besides
	// the task: asyncio's futures, callbacks and selector for a sock_recv
	// and a sock_sendall.
	LoopRequest time.Duration
	// PoolHop is what a process pool's feeder thread spends on each task on
	// the way in (pickling, the call queue), and its manager thread on the
	// way out (unpickling the result, setting the future): two hops of
	// other interpreter threads that take the lock.
	PoolHop time.Duration
}

// DefaultPythonCosts are the costs Python mode charges unless told
// otherwise.
var DefaultPythonCosts = PythonCosts{Handover: 20 * time.Microsecond, LoopRequest: 13 * time.Microsecond, PoolHop: 28 * time.Microsecond}

// charged returns the costs to charge: c's, with the defaults for its zero
// fields and none for its negative ones.
func (c PythonCosts) charged() gil.Costs {
	pick := func(v, def time.Duration) time.Duration {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0
		}
		return v
	}
	return gil.Costs{
		Handover:    pick(c.Handover, DefaultPythonCosts.Handover),
		LoopRequest: pick(c.LoopRequest, DefaultPythonCosts.LoopRequest),
		PoolHop:     pick(c.PoolHop, DefaultPythonCosts.PoolHop),
	}
}
