// Package wire holds the codecs of the wire protocols: the server's
// decoders of requests and encoders of answers, and the client's encoders
// of requests and decoders of answers. They work on bytes and do no I/O
// (the "sans-I/O" style), so that the goroutine servers, the event loop,
// the load generator and the fuzz targets share them.
package wire

// Kind says what a decoder found.
type Kind uint8

// The kinds of Decoded.
const (
	// NeedMore: the input holds no whole request yet.
	NeedMore Kind = iota
	// Request: a request, whose payload is Decoded.Payload.
	Request
	// Refused: a request refused before any task saw it; answer it with
	// an error of Decoded.Status and Decoded.Msg.
	Refused
)

// Decoded is what a decoder found at the start of its input.
type Decoded struct {
	Kind Kind
	// Payload is a Request's payload. It points into the input or into
	// the codec, and is valid until the next call of Decode.
	Payload []byte
	// Status is the HTTP status that says why a request was Refused;
	// protocols other than http ignore it.
	Status int
	// Msg says why a request was Refused.
	Msg string
	// Close is true for a refusal after which the connection closes:
	// the input was malformed or over a limit, so the rest of it cannot
	// be trusted. The server drains what the client still sends before
	// it closes, so that the error answer is not lost to a reset.
	Close bool
}

// A ServerCodec is the server's side of one connection's protocol: it finds
// requests in the bytes the client sends and formats the answers. It holds
// the state the protocol carries from a request to its answer (an HTTP
// request's version, say), so each connection has its own.
type ServerCodec interface {
	// Decode looks for the next request at the start of in, the bytes
	// received and not yet consumed, and returns how many of them it
	// consumed and what they held. eof says that the client will send
	// nothing more. Decode never consumes more than it decides about:
	// with NeedMore, the caller keeps the unconsumed bytes and calls
	// again once more have come. Of no input before EOF it says
	// NeedMore, so a caller may skip that call.
	Decode(in []byte, eof bool) (n int, d Decoded)
	// AppendAnswer appends the answer to the request last decoded, or
	// returns an error, and dst as it was, for an answer the protocol
	// cannot carry.
	AppendAnswer(dst, answer []byte) ([]byte, error)
	// AppendError appends an error answer with an HTTP status and a
	// message.
	AppendError(dst []byte, status int, msg string) []byte
	// CloseAfter reports whether the connection closes once the request
	// last decoded has been answered: the client asked for it, or the
	// request was refused with Close.
	CloseAfter() bool
	// BufferSize is the most unconsumed input that Decode may need to
	// see before it decides: a caller that can hold this many bytes is
	// never stuck with NeedMore on a full buffer.
	BufferSize() int
}
