package server

import (
	"net"
	"syscall"

	"github.com/primetime-lab/primetime/internal/reactor"
)

// socketPending returns how many bytes nc's socket holds, received and not
// yet read: requests that Shutdown must still answer.
func socketPending(nc net.Conn) int {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return 0
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	pending := 0
	raw.Control(func(fd uintptr) { pending = reactor.Pending(int(fd)) })
	return pending
}
