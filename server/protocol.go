package server

import (
	"fmt"

	"github.com/primetime-lab/primetime/internal/wire"
)

// A Protocol is a wire protocol a Server speaks and a load generator
// drives; see the package documentation for each. It is the same type as
// loadtest.Protocol.
type Protocol = wire.Protocol

// The wire protocols.
const (
	// ProtocolLine: the client sends a decimal n and "\n"; the answer is
	// a line. The default.
	ProtocolLine = wire.Line
	// ProtocolHTTP: HTTP/1.1 with keep-alive; GET /?n=10 or GET /prime/10
	// answers 29.
	ProtocolHTTP = wire.HTTP
	// ProtocolRecv: what the lecture's Python clients speak: each read the
	// server gets is one request, and the answer is a line.
	ProtocolRecv = wire.Recv
)

// Protocols returns every protocol, the default first.
func Protocols() []Protocol { return wire.Protocols() }

// ParseProtocol returns the protocol named name; "" is ProtocolLine. The
// error lists the protocols.
func ParseProtocol(name string) (Protocol, error) {
	p, err := wire.Parse(name)
	if err != nil {
		return "", fmt.Errorf("server: %w", err)
	}
	return p, nil
}

// newCodec returns a codec of the server's protocol, with its limits, for
// one connection.
func (s *Server) newCodec() wire.ServerCodec {
	return s.proto.ServerCodec(wire.Limits{MaxLine: s.MaxLineBytes, MaxHeader: s.MaxHeaderBytes})
}
