package gil

import "time"

// An Interpreter is Python mode's interpreter: its lock, and the work
// CPython does that a Go server does not, charged with the lock held. A
// nil *Interpreter is Go mode.
type Interpreter struct {
	g     *GIL
	costs Costs
}

// Costs are the interpreter's costs, as server.PythonCosts describes them,
// with the defaults already applied; a zero field charges nothing.
type Costs struct {
	Handover, LoopRequest, PoolHop time.Duration
}

// NewInterpreter returns an interpreter whose lock has the given switch
// interval and whose woken threads take costs.Handover to run again.
func NewInterpreter(interval time.Duration, costs Costs) *Interpreter {
	in := &Interpreter{g: New(interval), costs: costs}
	in.g.SetWakeDelay(costs.Handover)
	return in
}

// Lock returns the lock, or nil in Go mode.
func (in *Interpreter) Lock() *GIL {
	if in == nil {
		return nil
	}
	return in.g
}

// Costs returns what the interpreter charges: nothing in Go mode.
func (in *Interpreter) Costs() Costs {
	if in == nil {
		return Costs{}
	}
	return in.costs
}
