package server

import (
	"net"

	"github.com/primetime-lab/primetime/internal/reactor"
)

// socketPending returns how many bytes nc's socket holds, received and not
// yet read: requests that Shutdown must still answer.
func socketPending(nc net.Conn) int {
	raw, err := rawConn(nc)
	if err != nil {
		return 0
	}
	pending := 0
	raw.Control(func(fd uintptr) { pending = reactor.Pending(int(fd)) })
	return pending
}
