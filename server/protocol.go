package server

import (
	"fmt"
	"slices"
	"strings"

	"github.com/primetime-lab/primetime/internal/wire"
)

// A Protocol is a wire protocol a Server speaks and a load generator
// drives; see the package documentation for each.
type Protocol string

// The wire protocols.
const (
	// ProtocolLine: the client sends a decimal n and "\n"; the answer is
	// a line. The default.
	ProtocolLine Protocol = "line"
	// ProtocolHTTP: HTTP/1.1 with keep-alive; GET /?n=10 or GET /prime/10
	// answers 29.
	ProtocolHTTP Protocol = "http"
	// ProtocolRecv: what the lecture's Python clients speak: each read the
	// server gets is one request, and the answer is a line.
	ProtocolRecv Protocol = "recv"
)

var protocols = []Protocol{ProtocolLine, ProtocolHTTP, ProtocolRecv}

// Protocols returns every protocol, the default first.
func Protocols() []Protocol { return slices.Clone(protocols) }

// ParseProtocol returns the protocol named name; "" is ProtocolLine. The
// error lists the protocols.
func ParseProtocol(name string) (Protocol, error) {
	if name == "" {
		return ProtocolLine, nil
	}
	if p := Protocol(name); slices.Contains(protocols, p) {
		return p, nil
	}
	names := make([]string, len(protocols))
	for i, p := range protocols {
		names[i] = string(p)
	}
	return "", fmt.Errorf("server: unknown protocol %q (want %s)", name, strings.Join(names, ", "))
}

// newCodec returns a codec of the server's protocol, with its limits, for
// one connection.
func (s *Server) newCodec() wire.ServerCodec {
	switch s.proto {
	case ProtocolHTTP:
		return wire.NewHTTPCodec(s.maxHeaderBytes())
	case ProtocolRecv:
		return wire.NewRecvCodec(s.maxLineBytes())
	}
	return wire.NewLineCodec(s.maxLineBytes())
}

// maxHeaderBytes returns the limit of an HTTP request's head.
func (s *Server) maxHeaderBytes() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return DefaultMaxHeaderBytes
}
