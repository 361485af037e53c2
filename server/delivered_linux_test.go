package server_test

import (
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/primetime-lab/primetime/internal/testkit"
)

// delivered waits until the server's kernel has acknowledged everything
// sent on c, so that it waits in the server's socket: a gate for tests of
// what a server does with input it has not read.
func delivered(t *testing.T, c net.Conn) {
	t.Helper()
	rc, err := c.(syscall.Conn).SyscallConn()
	require.NoError(t, err)
	for deadline := time.Now().Add(testkit.Bound); ; {
		var info *unix.TCPInfo
		rc.Control(func(fd uintptr) { info, err = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO) })
		require.NoError(t, err)
		if info.Unacked == 0 && info.Notsent_bytes == 0 {
			return
		}
		require.True(t, time.Now().Before(deadline), "the server's kernel never acknowledged what was sent")
		time.Sleep(100 * time.Microsecond)
	}
}
