package loadtest

import (
	"time"

	"golang.org/x/sys/unix"
)

// selfCPU returns the CPU time this process has used, all its threads,
// from the kernel's scheduler clock: exact to the nanosecond, where
// getrusage and /proc/PID/stat are sampled at the tick and adjusted, and
// can stand still for a while and then jump.
func selfCPU() (time.Duration, error) { return clockCPU(unix.CLOCK_PROCESS_CPUTIME_ID) }

// processCPU returns the CPU time process pid has used, from the same
// clock (clock_getcpuclockid's).
func processCPU(pid int) (time.Duration, error) { return clockCPU(int32(^pid)<<3 | 2) }

func clockCPU(clock int32) (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(clock, &ts); err != nil {
		return 0, err
	}
	return time.Duration(ts.Nano()), nil
}
