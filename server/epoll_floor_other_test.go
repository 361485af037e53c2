//go:build !linux

package server_test

import (
	"errors"
	"net"
	"testing"
	"time"
)

// serveMinimalEpoll needs epoll, which only Linux has.
func serveMinimalEpoll(b *testing.B, l net.Listener) (stop func()) {
	l.Close()
	b.Skip("the event loop's floor needs epoll")
	return nil
}

// minimalEpollLoops needs epoll, which only Linux has.
func minimalEpollLoops(l net.Listener, loops int, goRule bool, work time.Duration) (stop func(), err error) {
	l.Close()
	return nil, errors.New("the event loop's floor needs epoll")
}
