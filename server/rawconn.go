package server

import (
	"errors"
	"fmt"
	"syscall"
)

// rawConn returns the descriptor of v, a net.Conn or net.Listener, as a
// syscall.RawConn; an error wrapping errors.ErrUnsupported if v has none.
func rawConn(v any) (syscall.RawConn, error) {
	sc, ok := v.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("server: a %T has no descriptor: %w", v, errors.ErrUnsupported)
	}
	return sc.SyscallConn()
}
