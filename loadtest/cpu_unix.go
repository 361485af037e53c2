//go:build unix && !linux

package loadtest

import (
	"errors"
	"syscall"
	"time"
)

// selfCPU returns the CPU time, user and system, this process has used.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// processCPU needs a process's CPU clock, which only Linux lends.
func processCPU(int) (time.Duration, error) {
	return 0, errors.New("loadtest: no other process's CPU clock here")
}
