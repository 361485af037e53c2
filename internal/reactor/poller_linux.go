package reactor

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// A poller is a loop's epoll instance.
type poller struct{ fd int }

func newPoller() (poller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return poller{fd: -1}, fmt.Errorf("reactor: epoll_create1: %w", err)
	}
	return poller{fd: fd}, nil
}

// add watches fd for events.
func (p poller) add(fd int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	return unix.EpollCtl(p.fd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// modify changes the events fd is watched for.
func (p poller) modify(fd int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	return unix.EpollCtl(p.fd, unix.EPOLL_CTL_MOD, fd, &ev)
}

// listenerTag marks the listening socket's events: its descriptor's
// number may be a connection's once the server has closed it.
const listenerTag = 1

// addListener watches the listening socket fd for a connection to accept:
// edge-triggered, so that one waiting while the acceptor is busy does not
// wake the loop again and again, and exclusive, so that one loop wakes of
// those that wait.
func (p poller) addListener(fd int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET | unix.EPOLLEXCLUSIVE, Fd: int32(fd), Pad: listenerTag}
	return unix.EpollCtl(p.fd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// remove stops watching fd.
func (p poller) remove(fd int) { unix.EpollCtl(p.fd, unix.EPOLL_CTL_DEL, fd, nil) }

// wait waits up to timeout milliseconds (-1: no limit) for events.
func (p poller) wait(events []unix.EpollEvent, timeout int) int {
	n, err := unix.EpollWait(p.fd, events, timeout)
	if err != nil && !errors.Is(err, unix.EINTR) {
		panic("reactor: epoll_wait: " + err.Error())
	}
	return max(n, 0)
}

// A waker is how other goroutines hand events to a loop: a queue and an
// eventfd that the loop's poller watches, as asyncio's
// call_soon_threadsafe appends to a queue and writes to a self-pipe.
type waker struct {
	fd int

	mu       sync.Mutex
	posted   []event // from other goroutines, for the loop
	taken    []event // the batch being handled, the loop's
	pending  bool    // a wake-up is written, or about to be, and not yet read
	released bool    // the descriptor is to be closed: post must not write
	writing  sync.WaitGroup
}

func newWaker(p poller) (*waker, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("reactor: eventfd: %w", err)
	}
	w := &waker{fd: fd}
	if err := p.add(fd, unix.EPOLLIN); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("reactor: adding the wake-up descriptor: %w", err)
	}
	return w, nil
}

// post hands ev to the loop, and wakes the loop unless a wake-up is
// already pending. A post after the loop has ended is dropped: nothing
// waits for it. The write happens outside mu, so that the loop, woken by
// it, does not wait for the lock behind the rest of a system call; release
// waits for the writes under way before it closes the descriptor, so that
// none reaches a number a new socket or pipe has taken.
func (w *waker) post(ev event) {
	w.mu.Lock()
	if w.released {
		w.mu.Unlock()
		return
	}
	w.posted = append(w.posted, ev)
	wake := !w.pending
	if wake {
		w.pending = true
		w.writing.Add(1)
	}
	w.mu.Unlock()
	if wake {
		var one [8]byte
		binary.NativeEndian.PutUint64(one[:], 1)
		unix.Write(w.fd, one[:])
		w.writing.Done()
	}
}

// read reads the wake-up; the loop calls it when the eventfd is ready.
func (w *waker) read() {
	var buf [8]byte
	unix.Read(w.fd, buf[:])
}

// take returns what has been posted since the last take. Clearing the
// pending wake-up with the take means that a post after it wakes the loop
// again.
func (w *waker) take() []event {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = false
	w.taken, w.posted = w.posted, w.taken[:0]
	return w.taken
}

// release closes the eventfd once the writes under way are done.
func (w *waker) release() {
	w.mu.Lock()
	w.released = true
	w.mu.Unlock()
	w.writing.Wait()
	unix.Close(w.fd)
}
