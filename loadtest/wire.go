package loadtest

import (
	"github.com/primetime-lab/primetime/internal/wire"
)

// A Protocol is a wire protocol the load generator speaks: "line" (the
// default), "http" or "recv". It is the same type as server.Protocol, whose
// constants name them.
type Protocol = wire.Protocol

// newClientCodec returns a client codec of protocol p, for one connection.
func newClientCodec(p Protocol) (wire.ClientCodec, error) {
	p, err := wire.Parse(string(p))
	if err != nil {
		return nil, err
	}
	return p.ClientCodec(), nil
}
