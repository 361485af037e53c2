//go:build !unix

package loadtest

import (
	"errors"
	"time"
)

// selfCPU needs getrusage, which only Unix has.
func selfCPU() (time.Duration, error) { return 0, errors.New("loadtest: no getrusage here") }

// processCPU needs a process's CPU clock, which only Linux lends.
func processCPU(int) (time.Duration, error) {
	return 0, errors.New("loadtest: no other process's CPU clock here")
}
