package gil

import (
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	futexWaitPrivate = 0 | 128 // FUTEX_WAIT | FUTEX_PRIVATE_FLAG
	futexWakePrivate = 1 | 128 // FUTEX_WAKE | FUTEX_PRIVATE_FLAG
)

// sleepThread waits on w's futex word with a timeout, as CPython's
// threads wait on a condition variable: the wait is an OS thread's,
// precise to the kernel's timer slack, where the runtime's timers may fire
// a millisecond late and lengthen every switch interval.
func sleepThread(w *waiter, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for atomic.LoadUint32(&w.state) == 0 {
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		ts := unix.NsecToTimespec(left.Nanoseconds())
		// EAGAIN (already woken), EINTR and ETIMEDOUT all mean: look again.
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&w.state)), futexWaitPrivate, 0, uintptr(unsafe.Pointer(&ts)), 0, 0)
	}
	return true
}

// wakeThread wakes the thread waiting on the futex word state, if any.
func wakeThread(state *uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(state)), futexWakePrivate, 1, 0, 0, 0)
}
