//go:build !linux

package server

import (
	"errors"
	"net"
)

// detach is for the event loop, which only Linux has.
func detach(nc net.Conn) (int, error) {
	nc.Close()
	return -1, errors.New("server: the event loop needs Linux")
}

func closeFD(int) {}
