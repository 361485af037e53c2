package loadtest

import (
	"net"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// listensHere reports whether the TCP address addr is listened on by a
// socket of this process: the server runs in the generator's process. It
// asks each of this process's descriptors whether it is a listening socket
// and where: a few system calls a descriptor, where the kernel's table of
// every TCP socket on the machine can take a second to read.
func listensHere(addr string) bool {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return false
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return false
	}
	for _, e := range fds {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if listening, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || listening != 1 {
			continue
		}
		sa, err := unix.Getsockname(fd)
		if err != nil {
			continue
		}
		var ip net.IP
		var port int
		switch a := sa.(type) {
		case *unix.SockaddrInet4:
			ip, port = a.Addr[:], a.Port
		case *unix.SockaddrInet6:
			ip, port = a.Addr[:], a.Port
		default:
			continue
		}
		if port == ta.Port && (ip.IsUnspecified() || ip.Equal(ta.IP)) {
			return true
		}
	}
	return false
}
