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
type Interpreter struct{ g *gil.GIL }

// NewInterpreter returns an interpreter lock with the given switch
// interval (CPython's sys.setswitchinterval; its default is 5 ms).
func NewInterpreter(switchInterval time.Duration) *Interpreter {
	return &Interpreter{g: gil.New(switchInterval)}
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
