package wire

import (
	"bytes"
	"fmt"
	"strconv"
)

// Limits of the target client: the longest response head it reads, and
// the most of a body it keeps (the rest is counted and dropped).
const (
	MaxTargetHead = 64 << 10
	MaxKeptBody   = 1 << 20
	// refusalBody is how much of an error answer's body its refusal
	// quotes.
	refusalBody = 200
)

// TargetOptions say how a target client reads answers.
type TargetOptions struct {
	// Request is the request it sends, whole, as AppendRequest appends it.
	Request []byte
	// Head says the request is a HEAD, whose answers have no body.
	Head bool
	// OK reports whether an answer of a status counts; nil takes 2xx.
	OK func(status int) bool
	// Keep keeps an answer's body, up to MaxKeptBody bytes, as its
	// Answer.Body; otherwise Body says the status and the body's length.
	Keep bool
}

// NewTargetClient returns a client codec for an HTTP/1.1 service written
// by anyone: a request of one's own, and answers of any framing
// (Content-Length, chunked, or to the connection's end, which DecodeEOF
// decodes), after any 1xx interim answers. A body is read as it comes
// (DecodeAnswer then returns a Partial answer), so its size is not
// bounded. An answer whose status o.OK does not take is Refused.
func NewTargetClient(o TargetOptions) *TargetClient {
	if o.OK == nil {
		o.OK = func(status int) bool { return status >= 200 && status < 300 }
	}
	return &TargetClient{o: o}
}

// The states of a TargetClient between calls.
const (
	inHead = iota
	inBody
	inChunkSize
	inChunk
	inChunkEnd
	inTrailer
	toClose
)

// A TargetClient is the codec of NewTargetClient, for one connection.
type TargetClient struct {
	o        TargetOptions
	state    int
	left     int64  // the bytes left of the body or of the chunk
	length   int64  // the body's bytes so far
	status   int    // the answer's status
	statusAt []byte // its status line, from the code on
	close    bool   // the connection closes after the answer
	body     []byte // the kept part of the body
	text     []byte // the answer's Body when it is not the body
}

// AppendRequest appends the client's request; payload is not used.
func (c *TargetClient) AppendRequest(dst []byte, payload string) []byte {
	return append(dst, c.o.Request...)
}

// DecodeAnswer decodes what it can of in: an answer, or a part of one
// (n > 0 with a.Partial), or nothing yet (n == 0).
func (c *TargetClient) DecodeAnswer(in []byte) (int, Answer, error) {
	n := 0
	for {
		switch c.state {
		case inHead:
			k, err := c.decodeHead(in[n:])
			if err != nil || k == 0 {
				return n, c.partial(n), err
			}
			n += k
			if c.state == inHead { // a 1xx interim answer
				continue
			}
		case inBody, inChunk:
			k := int(min(c.left, int64(len(in)-n)))
			c.take(in[n : n+k])
			n += k
			c.left -= int64(k)
			if c.left > 0 {
				return n, c.partial(n), nil
			}
			if c.state == inChunk {
				c.state = inChunkEnd
			} else {
				c.state = inHead
				return n, c.answer(), nil
			}
		case inChunkSize:
			line, k, err := cutLine(in[n:], 1024)
			if err != nil || k == 0 {
				return n, c.partial(n), err
			}
			n += k
			size, _, _ := bytes.Cut(line, []byte(";"))
			v, ok := parseHex(bytes.TrimSpace(size))
			if !ok {
				return n, Answer{}, fmt.Errorf("%w: HTTP chunk size %q", ErrMalformed, line)
			}
			c.left, c.state = v, inChunk
			if v == 0 {
				c.state = inTrailer
			}
		case inChunkEnd:
			line, k, err := cutLine(in[n:], 2)
			if err != nil || k == 0 {
				return n, c.partial(n), err
			}
			if len(line) != 0 {
				return n, Answer{}, fmt.Errorf("%w: HTTP chunk not ended by a line break", ErrMalformed)
			}
			n += k
			c.state = inChunkSize
		case inTrailer:
			line, k, err := cutLine(in[n:], MaxTargetHead)
			if err != nil || k == 0 {
				return n, c.partial(n), err
			}
			n += k
			if len(line) == 0 {
				c.state = inHead
				return n, c.answer(), nil
			}
		case toClose:
			c.take(in[n:])
			return len(in), c.partial(len(in)), nil
		}
	}
}

// DecodeEOF returns the answer that the connection's end completes: a
// body read to the end, and false if the end cut an answer short.
func (c *TargetClient) DecodeEOF() (Answer, bool) {
	if c.state != toClose {
		return Answer{}, false
	}
	c.state = inHead
	return c.answer(), true
}

// partial is what DecodeAnswer returns having consumed n bytes of an
// answer it has not finished.
func (c *TargetClient) partial(n int) Answer { return Answer{Partial: n > 0} }

// take counts the body's bytes p, and keeps what it may.
func (c *TargetClient) take(p []byte) {
	c.length += int64(len(p))
	keep := refusalBody
	if c.o.Keep {
		keep = MaxKeptBody
	}
	if room := keep - len(c.body); room > 0 {
		c.body = append(c.body, p[:min(room, len(p))]...)
	}
}

// decodeHead decodes a response head at the start of in and returns its
// length, or 0 while it is incomplete. It sets the state its body starts
// in, or leaves it inHead for an interim answer.
func (c *TargetClient) decodeHead(in []byte) (int, error) {
	// The head ends at its first empty line after the status line.
	status, n, err := cutLine(in, MaxTargetHead)
	if err != nil || n == 0 {
		return 0, err
	}
	headers := n
	for {
		line, k, err := cutLine(in[n:], MaxTargetHead)
		if err != nil || k == 0 {
			if len(in) >= MaxTargetHead || err != nil {
				return 0, fmt.Errorf("%w: HTTP response head over %d bytes", ErrMalformed, MaxTargetHead)
			}
			return 0, nil
		}
		n += k
		if len(line) == 0 {
			break
		}
		if n >= MaxTargetHead {
			return 0, fmt.Errorf("%w: HTTP response head over %d bytes", ErrMalformed, MaxTargetHead)
		}
	}
	if len(status) < 12 || !bytes.HasPrefix(status, []byte("HTTP/1.")) || status[8] != ' ' {
		return 0, fmt.Errorf("%w: HTTP status line %q", ErrMalformed, status)
	}
	code := int(status[9]-'0')*100 + int(status[10]-'0')*10 + int(status[11]-'0')
	if !isDigits(status[9:12]) || code < 100 || (len(status) > 12 && status[12] != ' ') {
		return 0, fmt.Errorf("%w: HTTP status line %q", ErrMalformed, status)
	}
	if code == 101 {
		return 0, fmt.Errorf("%w: the server switched protocols (101), which a load of HTTP requests cannot follow", ErrMalformed)
	}
	if code < 200 {
		return n, nil // an interim answer: the final one follows
	}
	c.status, c.statusAt = code, append(c.statusAt[:0], bytes.TrimSpace(status[9:])...)
	c.close = status[7] == '0' // HTTP/1.0 closes unless told otherwise
	c.length, c.body, c.left = 0, c.body[:0], -1
	chunked := false
	for rest := in[headers:n]; ; {
		h, k, _ := cutLine(rest, MaxTargetHead)
		rest = rest[k:]
		if len(h) == 0 {
			break
		}
		name, value, found := bytes.Cut(h, []byte(":"))
		if !found || len(name) == 0 || bytes.ContainsAny(name, " \t") {
			return 0, fmt.Errorf("%w: HTTP header %q", ErrMalformed, h)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			v, err := parseLength(value)
			if err != nil || (c.left >= 0 && c.left != v) {
				return 0, fmt.Errorf("%w: HTTP Content-Length %q", ErrMalformed, value)
			}
			c.left = v
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			last := value
			if i := bytes.LastIndexByte(value, ','); i >= 0 {
				last = value[i+1:]
			}
			chunked = bytes.EqualFold(bytes.TrimSpace(last), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			for opts := value; len(opts) > 0; {
				var opt []byte
				opt, opts, _ = bytes.Cut(opts, []byte(","))
				opt = bytes.TrimSpace(opt)
				switch {
				case bytes.EqualFold(opt, []byte("close")):
					c.close = true
				case bytes.EqualFold(opt, []byte("keep-alive")) && status[7] == '0':
					c.close = false
				}
			}
		}
	}
	switch {
	case c.o.Head || code == 204 || code == 304:
		c.left, c.state = 0, inBody
	case chunked:
		c.left, c.state = 0, inChunkSize
	case c.left >= 0:
		c.state = inBody
	default:
		c.close, c.state = true, toClose
	}
	return n, nil
}

// answer returns the answer just read, and readies the codec for the next.
func (c *TargetClient) answer() Answer {
	a := Answer{Close: c.close}
	switch {
	case !c.o.OK(c.status):
		c.text = append(append(c.text[:0], "HTTP "...), c.statusAt...)
		if body := bytes.TrimSpace(c.body[:min(len(c.body), refusalBody)]); len(body) > 0 {
			c.text = append(append(c.text, ": "...), body...)
		}
		a.Body, a.Refused = c.text, true
	case c.o.Keep:
		a.Body = c.body
	default:
		c.text = append(append(c.text[:0], c.statusAt...), ", "...)
		c.text = append(strconv.AppendInt(c.text, c.length, 10), " bytes"...)
		a.Body = c.text
	}
	c.state = inHead
	return a
}

// isDigits reports whether b is all decimal digits.
func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseLength reads a Content-Length without allocating: decimal digits
// only, below 2^62.
func parseLength(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 18 || !isDigits(b) {
		return 0, ErrMalformed
	}
	var v int64
	for _, c := range b {
		v = v*10 + int64(c-'0')
	}
	return v, nil
}

// parseHex reads a chunk size: hexadecimal digits, below 2^60.
func parseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | int64(c-'0')
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			v = v<<4 | int64(c|0x20-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// cutLine returns the line at the start of in, without its line break,
// and its length with it; 0 while in holds no whole line, and an error
// for a line over max bytes.
func cutLine(in []byte, max int) ([]byte, int, error) {
	i := bytes.IndexByte(in, '\n')
	if i < 0 {
		if len(in) > max {
			return nil, 0, fmt.Errorf("%w: HTTP line over %d bytes", ErrMalformed, max)
		}
		return nil, 0, nil
	}
	return bytes.TrimSuffix(in[:i], []byte("\r")), i + 1, nil
}
