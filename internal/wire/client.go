package wire

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// An Answer is what a client decoded of the server's answer to a request.
type Answer struct {
	// Body is the answer's payload, or for an error answer its
	// description. It points into the input or into the codec, and is
	// valid until the next call of DecodeAnswer.
	Body []byte
	// Refused is true for an error answer.
	Refused bool
	// Close is true if the server closes the connection after it.
	Close bool
	// Partial says that the decoder consumed part of an answer it has
	// not finished (a long body): call it again once more has come.
	Partial bool
}

// An EOFDecoder is a ClientCodec whose answers may end where the server
// closes the connection, as an HTTP body of no stated length does.
type EOFDecoder interface {
	// DecodeEOF returns the answer the connection's end completes, and
	// false if the end cut an answer short.
	DecodeEOF() (Answer, bool)
}

// ErrMalformed is the error of an answer a client cannot decode.
var ErrMalformed = errors.New("malformed answer")

// A ClientCodec is the client's side of one connection's protocol: it
// formats requests and finds answers in the bytes the server sends. A
// decoder allocates nothing for an answer that is not an error.
type ClientCodec interface {
	// AppendRequest appends the request that asks for payload.
	AppendRequest(dst []byte, payload string) []byte
	// DecodeAnswer looks for an answer at the start of in and returns how
	// many bytes it took. n is 0, with a nil error, while in holds no
	// whole answer yet, unless the decoder consumed part of one (then
	// the Answer is Partial); an answer that cannot be decoded is an
	// error that wraps ErrMalformed.
	DecodeAnswer(in []byte) (n int, a Answer, err error)
}

// NewLineClient returns the client codec of the line protocol.
func NewLineClient() ClientCodec { return lineClient{} }

// NewRecvClient returns the client codec of the recv protocol: the bare
// digits, one message per request, and an answer line.
func NewRecvClient() ClientCodec { return recvClient{} }

// NewHTTPClient returns the client codec of the http protocol: GET
// /prime/N over HTTP/1.1 with keep-alive.
func NewHTTPClient() ClientCodec { return &httpClient{} }

var errPrefix = []byte("ERR")

type lineClient struct{}

func (lineClient) AppendRequest(dst []byte, payload string) []byte {
	return append(append(dst, payload...), '\n')
}

func (lineClient) DecodeAnswer(in []byte) (int, Answer, error) { return decodeAnswerLine(in) }

type recvClient struct{}

func (recvClient) AppendRequest(dst []byte, payload string) []byte { return append(dst, payload...) }
func (recvClient) DecodeAnswer(in []byte) (int, Answer, error)     { return decodeAnswerLine(in) }

// decodeAnswerLine decodes an answer line, as the line and recv protocols
// answer.
func decodeAnswerLine(in []byte) (int, Answer, error) {
	i := bytes.IndexByte(in, '\n')
	if i < 0 {
		return 0, Answer{}, nil
	}
	line := bytes.TrimSuffix(in[:i], []byte("\r"))
	return i + 1, Answer{Body: line, Refused: bytes.HasPrefix(line, errPrefix)}, nil
}

// httpClient decodes responses with a parser of its own, which allocates
// nothing per answer: net/http's would be the load generator's cost.
type httpClient struct {
	refusal []byte // the description of an error answer
}

func (*httpClient) AppendRequest(dst []byte, payload string) []byte {
	dst = append(dst, "GET /prime/"...)
	dst = append(dst, url.PathEscape(payload)...)
	return append(dst, " HTTP/1.1\r\nHost: primetime\r\n\r\n"...)
}

func (c *httpClient) DecodeAnswer(in []byte) (int, Answer, error) {
	i := bytes.IndexByte(in, '\n')
	if i < 0 {
		return 0, Answer{}, nil
	}
	status := bytes.TrimRight(in[:i], "\r")
	if len(status) < 12 || !bytes.HasPrefix(status, []byte("HTTP/1.")) {
		return 0, Answer{}, fmt.Errorf("%w: HTTP status line %q", ErrMalformed, status)
	}
	ok := string(status[9:12]) == "200"
	closing := status[7] == '0' // HTTP/1.0 closes unless told otherwise
	length := -1
	n := i + 1
	for {
		i := bytes.IndexByte(in[n:], '\n')
		if i < 0 {
			return 0, Answer{}, nil
		}
		h := bytes.TrimRight(in[n:n+i], "\r")
		n += i + 1
		if len(h) == 0 {
			break
		}
		name, value, found := bytes.Cut(h, []byte(":"))
		if !found {
			return 0, Answer{}, fmt.Errorf("%w: HTTP header %q", ErrMalformed, h)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			v, err := strconv.Atoi(string(value))
			if err != nil || v < 0 {
				return 0, Answer{}, fmt.Errorf("%w: HTTP Content-Length %q", ErrMalformed, value)
			}
			length = v
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close")) || (closing && !bytes.EqualFold(value, []byte("keep-alive")))
		}
	}
	if length < 0 {
		return 0, Answer{}, fmt.Errorf("%w: HTTP response with no Content-Length", ErrMalformed)
	}
	if len(in)-n < length {
		return 0, Answer{}, nil
	}
	body := in[n : n+length]
	a := Answer{Body: body, Close: closing}
	if !ok {
		c.refusal = append(append(append(append(c.refusal[:0], "HTTP "...), bytes.TrimSpace(status[9:])...), ": "...), body...)
		a.Body, a.Refused = c.refusal, true
	}
	return n + length, a, nil
}
