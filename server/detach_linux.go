package server

import (
	"fmt"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// detach takes nc's socket out of Go's network poller for the event loop:
// it returns a duplicate of the descriptor, non-blocking and close-on-exec,
// and closes nc.
func detach(nc net.Conn) (int, error) {
	defer nc.Close()
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("server: a %T has no descriptor", nc)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, dupErr := -1, error(nil)
	if err := rc.Control(func(s uintptr) { fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, fmt.Errorf("server: duplicating a connection's descriptor: %w", dupErr)
	}
	return fd, nil
}

func closeFD(fd int) { unix.Close(fd) }
