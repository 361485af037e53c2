package reexec

import (
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// pinAndExec sets the calling thread's CPU affinity and executes path on
// it: the new program's threads inherit it.
func pinAndExec(cpus []int, path string, args, env []string) error {
	runtime.LockOSThread() // the affinity is the thread's: exec on it
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return err
	}
	return syscall.Exec(path, args, env)
}

// allowedCPUs returns the CPUs this process may run on.
func allowedCPUs() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, err
	}
	var cpus []int
	for c := range 1024 {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}
