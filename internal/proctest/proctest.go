// Package proctest lists a process's children from /proc, for tests that
// check that no child process is left behind.
package proctest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Available reports whether /proc can be read here.
func Available() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// Children returns the pids of this process's children, zombies included.
func Children() []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	parent := strconv.Itoa(os.Getpid())
	var kids []int
	for _, path := range stats {
		if fields := statFields(path); len(fields) > 1 && fields[1] == parent {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			kids = append(kids, pid)
		}
	}
	return kids
}

// Zombie reports whether pid has exited but not been waited for, or is
// gone altogether.
func Zombie(pid int) bool {
	fields := statFields("/proc/" + strconv.Itoa(pid) + "/stat")
	return len(fields) == 0 || fields[0] == "Z"
}

// statFields returns the fields of a /proc stat file after the command
// name, which is in parentheses and may hold spaces: the state, then the
// parent's pid, and so on. It returns nil for a process that is gone.
func statFields(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
}

// Kill kills the process pid at once (SIGKILL on Unix).
func Kill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

// Ignores reports whether the process pid ignores the signal numbered sig,
// from the SigIgn mask of /proc/PID/status.
func Ignores(pid, sig int) (bool, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if mask, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64)
			return m&(1<<(sig-1)) != 0, err
		}
	}
	return false, errors.New("proctest: no SigIgn in /proc/" + strconv.Itoa(pid) + "/status")
}
