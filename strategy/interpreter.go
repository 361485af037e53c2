package strategy

import (
	"time"

	"github.com/primetime-lab/primetime/internal/gil"
)

// An Interpreter is Python mode's emulated interpreter lock, with
// CPython's switching algorithm: a goroutine that has waited one switch
// interval for the lock asks its holder to drop it, and the holder does at
// its next checkpoint. A server in Python mode makes one and passes it to
// its strategy's Serve; the strategies make their connection goroutines,
// their loop and their worker goroutines threads of it.
type Interpreter struct {
	g     *gil.GIL
	costs PythonCosts
}

// PythonCosts are interpreter work that CPython does and a Go server does
// not, charged in Python mode on the CPU with the lock held, where CPython
// spends it. The defaults were measured against CPython 3.11 on the
// machine of BENCHMARKS.md; a zero field means its default, a negative one
// no cost.
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

// withDefaults returns c with its zero fields set to the defaults and its
// negative ones to none.
func (c PythonCosts) withDefaults() PythonCosts {
	pick := func(v, def time.Duration) time.Duration {
		switch {
		case v == 0:
			return def
		case v < 0:
			return 0
		}
		return v
	}
	return PythonCosts{
		Handover:    pick(c.Handover, DefaultPythonCosts.Handover),
		LoopRequest: pick(c.LoopRequest, DefaultPythonCosts.LoopRequest),
		PoolHop:     pick(c.PoolHop, DefaultPythonCosts.PoolHop),
	}
}

// NewInterpreter returns an interpreter lock with the given switch
// interval (CPython's sys.setswitchinterval; its default is 5 ms) that
// charges the given costs.
func NewInterpreter(switchInterval time.Duration, costs PythonCosts) *Interpreter {
	in := &Interpreter{g: gil.New(switchInterval), costs: costs.withDefaults()}
	in.g.SetWakeDelay(in.costs.Handover)
	return in
}

// Costs returns the costs the interpreter charges.
func (in *Interpreter) Costs() PythonCosts { return in.costs }

// charges returns the costs to charge: none in Go mode.
func (in *Interpreter) charges() PythonCosts {
	if in == nil {
		return PythonCosts{}
	}
	return in.costs
}

// SwitchInterval returns the lock's switch interval.
func (in *Interpreter) SwitchInterval() time.Duration { return in.g.Interval() }

// Switches returns how many times the lock has changed hands.
func (in *Interpreter) Switches() uint64 { return in.g.Switches() }

// lock returns the lock, or nil for a nil Interpreter: Go mode.
func (in *Interpreter) lock() *gil.GIL {
	if in == nil {
		return nil
	}
	return in.g
}
