package reexec

import "syscall"

// sysProcAttr makes a worker die with its parent. Pdeathsig is tied to the
// OS thread that started the child (go.dev/issue/27505), so it is a first
// line only; the worker also exits when its stdin closes, which happens
// whenever the parent dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
