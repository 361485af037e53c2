// Package cpus holds the one rule of sizes left out: a pool, a number of
// loops or of tasks in flight given as 0 means one per CPU of this machine.
package cpus

import "runtime"

// Or returns n, or one per CPU for n = 0 (a size left out).
func Or(n int) int {
	if n <= 0 {
		return runtime.NumCPU()
	}
	return n
}
