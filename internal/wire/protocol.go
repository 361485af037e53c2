package wire

import (
	"fmt"
	"slices"
	"strings"
)

// A Protocol is a wire protocol, named as the command's -protocol and the
// server's Protocol field name it. Each lives in this table, once: its
// name, its server codec, its client codec, and its limits.
type Protocol string

// The wire protocols.
const (
	// Line: the client sends a decimal n and "\n"; the answer is a line.
	// The default.
	Line Protocol = "line"
	// HTTP: HTTP/1.1 with keep-alive; GET /?n=10 or GET /prime/10
	// answers 29.
	HTTP Protocol = "http"
	// Recv: what the lecture's Python clients speak: each read the server
	// gets is one request, and the answer is a line.
	Recv Protocol = "recv"
)

// Default limits of the servers' codecs.
const (
	// DefaultMaxLine is the longest request line of the line and recv
	// protocols, not counting its line ending.
	DefaultMaxLine = 4096
	// DefaultMaxHeader is the largest HTTP request head: request line
	// and header fields.
	DefaultMaxHeader = 8 << 10
	// MaxBody is the largest HTTP request body the server skips; GET
	// requests have none, but a client may send one.
	MaxBody = 64 << 10
)

// Limits are a server's bounds on the requests of its protocol; a zero
// field means its default.
type Limits struct {
	MaxLine   int
	MaxHeader int
}

// withDefaults returns l with its zero fields set to the defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxLine <= 0 {
		l.MaxLine = DefaultMaxLine
	}
	if l.MaxHeader <= 0 {
		l.MaxHeader = DefaultMaxHeader
	}
	return l
}

// protocols is the table, the default first.
var protocols = []struct {
	name   Protocol
	server func(Limits) ServerCodec
	client func() ClientCodec
}{
	{Line, func(l Limits) ServerCodec { return NewLineCodec(l.MaxLine) }, NewLineClient},
	{HTTP, func(l Limits) ServerCodec { return NewHTTPCodec(l.MaxHeader) }, NewHTTPClient},
	{Recv, func(l Limits) ServerCodec { return NewRecvCodec(l.MaxLine) }, NewRecvClient},
}

// Protocols returns every protocol, the default first.
func Protocols() []Protocol {
	names := make([]Protocol, len(protocols))
	for i, p := range protocols {
		names[i] = p.name
	}
	return names
}

// Parse returns the protocol named name; "" is Line. The error lists the
// protocols.
func Parse(name string) (Protocol, error) {
	if name == "" {
		return Line, nil
	}
	if p := Protocol(name); slices.Contains(Protocols(), p) {
		return p, nil
	}
	names := make([]string, len(protocols))
	for i, p := range protocols {
		names[i] = string(p.name)
	}
	return "", fmt.Errorf("unknown protocol %q (want %s)", name, strings.Join(names, ", "))
}

// entry returns p's row of the table; "" is Line's. p must be a protocol
// that Parse accepts.
func (p Protocol) entry() int {
	if p == "" {
		return 0
	}
	for i, e := range protocols {
		if e.name == p {
			return i
		}
	}
	panic(fmt.Sprintf("wire: unknown protocol %q", string(p)))
}

// ServerCodec returns a new server codec of p, for one connection, with
// the limits given.
func (p Protocol) ServerCodec(l Limits) ServerCodec {
	return protocols[p.entry()].server(l.withDefaults())
}

// ClientCodec returns a new client codec of p, for one connection.
func (p Protocol) ClientCodec() ClientCodec { return protocols[p.entry()].client() }
