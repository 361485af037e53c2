package reactor

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/internal/wire"
)

var errNothingWaits = errors.New("AcceptConn called with no connection waiting")

// socketListener is a listening socket on loopback whose AcceptConn never
// waits: it accepts a connection already there, or counts a call made
// with none there, which would have waited in Go's network poller.
type socketListener struct {
	*fakeListener
	l     *net.TCPListener
	done  chan struct{}
	early atomic.Int32 // AcceptConn calls with nothing to accept
}

func (sl *socketListener) AcceptConn() (Conn, error) {
	select {
	case <-sl.done:
		return nil, errStopped
	default:
	}
	var fd int
	var err error
	if cerr := sl.Control(func(s int) { fd, _, err = unix.Accept4(s, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC) }); cerr != nil {
		return nil, cerr
	}
	if errors.Is(err, unix.EAGAIN) {
		sl.early.Add(1)
		return nil, errNothingWaits
	}
	if err != nil {
		return nil, err
	}
	return &fakeConn{l: sl.fakeListener, fd: fd, codec: wire.NewLineCodec(64)}, nil
}

func (sl *socketListener) Control(f func(int)) error {
	rc, err := sl.l.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(func(fd uintptr) { f(int(fd)) })
}

func (sl *socketListener) Waiting() <-chan struct{} { return sl.done }

// TestTheAcceptorWaitsForTheLoopsToSeeAConnection checks that, where the
// loops watch the listening socket, the acceptor calls AcceptConn only
// once a connection waits (or the server stops): it never waits in Go's
// network poller, which nothing polls while every loop holds its P.
func TestTheAcceptorWaitsForTheLoopsToSeeAConnection(t *testing.T) {
	tl, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer tl.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sl := &socketListener{
		fakeListener: &fakeListener{ctx: ctx, cancel: cancel, closed: make(chan *fakeConn, 16)},
		l:            tl,
		done:         make(chan struct{}),
	}
	served := make(chan error, 1)
	go func() { served <- Serve(sl, Config{Submit: inline, Threads: []*gil.Thread{nil, nil}}) }()

	for i := range 6 {
		c, err := net.Dial("tcp", tl.Addr().String())
		require.NoError(t, err)
		c.SetDeadline(time.Now().Add(testkit.Bound))
		_, err = c.Write([]byte("x\n"))
		require.NoError(t, err)
		got, err := bufio.NewReader(c).ReadString('\n')
		assert.NoError(t, err, "client %d", i)
		assert.Equal(t, "x\n", got, "client %d", i)
		c.Close()
	}
	close(sl.done)
	select {
	case err := <-served:
		assert.ErrorIs(t, err, errStopped, "the acceptor asks AcceptConn once the server stops")
	case <-time.After(testkit.Bound):
		t.Fatal("Serve did not return once the server stopped accepting")
	}
	assert.Zero(t, sl.early.Load(), "AcceptConn was called with no connection waiting")
	assert.Len(t, sl.closed, 6, "every connection closed before Serve returned")
}
