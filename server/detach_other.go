//go:build !linux

package server

import (
	"errors"
	"net"
)

// dupFD is for the event loop, which only Linux has.
func dupFD(net.Conn) (int, error) {
	return -1, errors.New("server: the event loop needs Linux")
}

func closeFD(int) {}
