package reactor

import "golang.org/x/sys/unix"

// PeerLeft reports whether the client of the socket fd has shut its side
// or reset the connection, without reading or waiting: one poll(2).
func PeerLeft(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
}

// Pending returns how many bytes the socket fd has received and not yet
// given to a read, without reading them: one ioctl.
func Pending(fd int) int {
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	if err != nil {
		return 0
	}
	return n
}
