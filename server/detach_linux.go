package server

import (
	"net"

	"golang.org/x/sys/unix"
)

// dupFD returns a duplicate of nc's descriptor, non-blocking and
// close-on-exec, for the event loop: once nc is closed, the socket is out
// of Go's network poller and the loop's alone.
func dupFD(nc net.Conn) (int, error) {
	rc, err := rawConn(nc)
	if err != nil {
		return -1, err
	}
	fd, dupErr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, &net.OpError{Op: "dup", Net: "tcp", Err: dupErr}
	}
	return fd, nil
}

func closeFD(fd int) { unix.Close(fd) }
