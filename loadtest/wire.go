package loadtest

import (
	"github.com/primetime-lab/primetime/internal/wire"
	"github.com/primetime-lab/primetime/server"
)

// newClientCodec returns a client codec of protocol p, for one connection.
func newClientCodec(p server.Protocol) (wire.ClientCodec, error) {
	p, err := server.ParseProtocol(string(p))
	if err != nil {
		return nil, err
	}
	switch p {
	case server.ProtocolHTTP:
		return wire.NewHTTPClient(), nil
	case server.ProtocolRecv:
		return wire.NewRecvClient(), nil
	}
	return wire.NewLineClient(), nil
}
