package server_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// serveMinimalEpoll serves l's line protocol with a minimal single-threaded
// epoll server, the event loop's floor: one goroutine locked to its thread
// accepts on l's descriptor, reads each ready connection into one buffer,
// answers every whole line with the prime task and writes the answers. A
// connection keeps only a partial line. No limits, no timeouts, no
// counters, no executor. It serves until stop is called.
func serveMinimalEpoll(b *testing.B, l net.Listener) (stop func()) {
	stop, err := minimalEpollLoops(l, 1, false, 0)
	if err != nil {
		b.Fatal(err)
	}
	return stop
}

// minimalEpollLoops starts loops such minimal loops on l, each with an
// epoll instance of its own that watches l's descriptor (EPOLLEXCLUSIVE:
// one loop wakes for a new connection) and its share of the connections,
// dealt round-robin (floorConns).
// Plain, each loop is locked to its OS thread and only makes system calls;
// with goRule, it is not locked and passes through Go's scheduler once a
// millisecond, as primetime's loops do (runtime.Gosched), without which
// Go's monitor takes loops that never yield for goroutines running too
// long (BENCHMARKS.md, "Go's monitor took the loops' Ps back"). With work,
// each request first spins that long on the loop: a server's own work per
// request, beyond the floor's.
func minimalEpollLoops(l net.Listener, loops int, goRule bool, work time.Duration) (stop func(), err error) {
	var fds []int // the descriptors made here, for release to close with l
	release := func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
		l.Close()
	}
	rc, err := l.(syscall.Conn).SyscallConn()
	if err != nil {
		release()
		return nil, err
	}
	lfd, dupErr := -1, error(nil)
	rc.Control(func(fd uintptr) { lfd, dupErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) })
	if dupErr != nil {
		release()
		return nil, dupErr
	}
	fds = append(fds, lfd)
	stopfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		release()
		return nil, err
	}
	fds = append(fds, stopfd)
	epfds := make([]int, loops)
	for i := range epfds {
		if epfds[i], err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
			release()
			return nil, err
		}
		fds = append(fds, epfds[i])
		listen := uint32(unix.EPOLLIN)
		if loops > 1 {
			listen |= unix.EPOLLEXCLUSIVE
		}
		for _, w := range []struct {
			fd     int
			events uint32
		}{{lfd, listen}, {stopfd, unix.EPOLLIN}} {
			if err := unix.EpollCtl(epfds[i], unix.EPOLL_CTL_ADD, w.fd, &unix.EpollEvent{Events: w.events, Fd: int32(w.fd)}); err != nil {
				release()
				return nil, err
			}
		}
	}
	conns := &floorConns{epfds: epfds, open: map[int]bool{}}
	var wg sync.WaitGroup
	for _, epfd := range epfds {
		wg.Go(func() { minimalLoop(epfd, lfd, stopfd, conns, goRule, work) })
	}
	return func() {
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		unix.Write(stopfd, one[:])
		wg.Wait()
		for fd := range conns.open {
			unix.Close(fd)
		}
		release()
	}, nil
}

// floorConns deals the connections that minimal loops accept over their
// epoll instances in turn, as gnet's round robin does and loops:N's
// fewest-first: the loop that woke for a new connection would otherwise
// keep every one pending, and often served all the clients while the
// other loop had none, which on two cores is another shape.
type floorConns struct {
	epfds []int

	mu   sync.Mutex
	next int
	open map[int]bool // accepted and not yet closed, for stop to close
}

// accept accepts every connection pending on lfd and hands each to the
// next loop.
func (fc *floorConns) accept(lfd int) {
	for {
		cfd, _, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			return
		}
		fc.mu.Lock()
		epfd := fc.epfds[fc.next%len(fc.epfds)]
		fc.next++
		fc.open[cfd] = true
		fc.mu.Unlock()
		unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, cfd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(cfd)})
	}
}

// close closes a connection whose client has gone.
func (fc *floorConns) close(fd int) {
	fc.mu.Lock()
	delete(fc.open, fd)
	fc.mu.Unlock()
	unix.Close(fd)
}

// minimalLoop is one loop of minimalEpollLoops, until stopfd is readable.
func minimalLoop(epfd, lfd, stopfd int, conns *floorConns, goRule bool, work time.Duration) {
	if !goRule {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	partial := map[int][]byte{} // its connections' partial lines
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 64<<10)
	var out []byte
	var yielded time.Time
	for {
		if goRule {
			if now := time.Now(); now.Sub(yielded) >= time.Millisecond {
				yielded = now
				runtime.Gosched()
			}
		}
		n, err := unix.EpollWait(epfd, events, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		for _, ev := range events[:max(n, 0)] {
			fd := int(ev.Fd)
			switch fd {
			case stopfd:
				return
			case lfd:
				conns.accept(lfd)
				continue
			}
			k, err := unix.Read(fd, buf)
			if errors.Is(err, unix.EAGAIN) {
				continue
			}
			if k <= 0 {
				conns.close(fd)
				delete(partial, fd)
				continue
			}
			in := buf[:k]
			if p := partial[fd]; len(p) > 0 {
				in = append(p, in...)
			}
			out = out[:0]
			for {
				i := bytes.IndexByte(in, '\n')
				if i < 0 {
					break
				}
				if work > 0 {
					for start := time.Now(); time.Since(start) < work; {
					}
				}
				answer, err := runPrime(in[:i])
				if err != nil {
					break
				}
				out = append(append(out, answer...), '\n')
				in = in[i+1:]
			}
			partial[fd] = append(partial[fd][:0], in...)
			unix.Write(fd, out)
		}
	}
}
