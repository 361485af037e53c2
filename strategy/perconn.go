package strategy

import "sync"

// perConn serves every connection on a goroutine of its own.
type perConn struct{}

func (perConn) String() string { return partForm(perConnName, 0) }

func (perConn) describe() Part { return Part{Name: perConnName} }

func (perConn) Schedule(l Listener, h Handler) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		wg.Go(func() { h.ServeConn(c) })
	}
}
