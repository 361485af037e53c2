//go:build !linux

package reexec

import "syscall"

// sysProcAttr has nothing to add off Linux: a worker exits when its stdin
// closes, which happens whenever the parent dies.
func sysProcAttr() *syscall.SysProcAttr { return nil }
