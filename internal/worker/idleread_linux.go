package worker

import (
	"io"
	"os"
	"syscall"
	"time"
	"unsafe"
)

// rawWait bounds a raw wait for the next request; it stays under the 10 ms
// after which the runtime would try to preempt the goroutine that waits,
// with a signal.
const rawWait = 5 * time.Millisecond

// idleReader returns a reader of in that, while idle reports true, first
// waits up to rawWait for data with raw system calls, ones the Go scheduler
// does not see. It returns in itself unless in is a file in blocking mode,
// as a worker's stdin is. A worker's idle reports whether no task runs
// while requests have lately had to wait for a worker: under load.
//
// A worker waits for its next request in a blocking read. Seen by the
// scheduler, such a read leaves the worker's one P in a system call; the
// runtime's monitor thread takes the P back after 20 µs, hands it to
// another thread, and, having found work, keeps waking every 20 µs: on a
// busy machine, several thread switches per request. Raw calls keep the P
// through the wait, which costs nothing while no task is running (idle):
// no goroutine of the worker needs the P meanwhile. A worker that has no
// request within rawWait waits in an ordinary read, so that an idle worker
// costs nothing either; and while a task runs, reads always go through
// in.Read, so that the task keeps the P.
//
// The raw wait is a trade: its thread sleeps deeper, and on a virtual
// machine with idle CPUs a lone request then takes longer to wake the
// worker (BENCHMARKS.md has the round trips). Under load,
// when the CPUs are the limit and the wait is short, it saves the most;
// so a worker waits raw only when its last request came while requests had
// lately had to wait for a worker.
func idleReader(in io.Reader, idle func() bool) io.Reader {
	f, ok := in.(*os.File)
	if !ok {
		return in
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return in
	}
	var fd uintptr
	blocking := false
	rc.Control(func(d uintptr) {
		fd = d
		flags, _, errno := syscall.RawSyscall(syscall.SYS_FCNTL, d, syscall.F_GETFL, 0)
		blocking = errno == 0 && flags&syscall.O_NONBLOCK == 0
	})
	if !blocking {
		return in
	}
	return &rawIdleReader{f: f, fd: fd, idle: idle}
}

type rawIdleReader struct {
	f    *os.File
	fd   uintptr
	idle func() bool
}

// pollFd is struct pollfd of poll(2).
type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

const pollIn = 0x1

func (r *rawIdleReader) Read(b []byte) (int, error) {
	if len(b) == 0 || !r.idle() {
		return r.f.Read(b)
	}
	pfd := pollFd{fd: int32(r.fd), events: pollIn}
	ts := syscall.NsecToTimespec(int64(rawWait))
	ready, _, errno := syscall.RawSyscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	if errno != 0 || ready == 0 {
		// Interrupted, or nothing within rawWait: wait the ordinary way.
		return r.f.Read(b)
	}
	for {
		n, _, errno := syscall.RawSyscall(syscall.SYS_READ, r.fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			return 0, &os.PathError{Op: "read", Path: r.f.Name(), Err: errno}
		case n == 0:
			return 0, io.EOF
		}
		return int(n), nil
	}
}
