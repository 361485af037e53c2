//go:build unix

package server_test

import (
	"syscall"
	"testing"
)

// raiseFileLimit raises this process's limit of open files to n, for the
// benchmark, or skips it.
func raiseFileLimit(b *testing.B, n uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Skip(err)
	}
	if lim.Cur >= n {
		return
	}
	old := lim
	lim.Cur = min(n, lim.Max)
	if lim.Cur < n {
		b.Skipf("needs %d open files; the hard limit is %d", n, lim.Max)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Skipf("needs %d open files: %v", n, err)
	}
	b.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// limitFiles sets this process's limit of open files to n.
func limitFiles(n uint64) error {
	lim := syscall.Rlimit{Cur: n, Max: n}
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}
