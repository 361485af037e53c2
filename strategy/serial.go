package strategy

// serial serves one connection at a time on the calling goroutine; the
// next connection is accepted only when the current one is done.
type serial struct{}

func (serial) String() string { return partForm(serialName, 0) }

func (serial) describe() Part { return Part{Name: serialName, MaxConns: 1} }

func (serial) Schedule(l Listener, h Handler) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		h.ServeConn(c)
	}
}
