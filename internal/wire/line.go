package wire

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
)

// NewLineCodec returns the server codec of the line protocol: a request is
// a line of at most max bytes, not counting its "\n" or "\r\n" ending, and
// so is an answer. A last line that ends at EOF without a newline is still
// a request; a longer line is refused and the connection closes.
func NewLineCodec(max int) ServerCodec { return &lineCodec{max: max} }

type lineCodec struct {
	max        int
	closeAfter bool
}

func (c *lineCodec) Decode(in []byte, eof bool) (int, Decoded) {
	// A line of max bytes and its "\r\n" fit in max+2.
	i := bytes.IndexByte(in[:min(len(in), c.max+2)], '\n')
	var line []byte
	var n int
	switch {
	case i >= 0:
		line, n = in[:i], i+1
	case len(in) >= c.max+2:
		return 0, c.tooLong()
	case eof && len(in) > 0:
		line, n = in, len(in)
	default:
		return 0, Decoded{}
	}
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) > c.max {
		return 0, c.tooLong()
	}
	return n, Decoded{Kind: Request, Payload: line}
}

func (c *lineCodec) tooLong() Decoded {
	c.closeAfter = true
	return Decoded{Kind: Refused, Status: http.StatusBadRequest, Close: true,
		Msg: fmt.Sprintf("request line too long: the limit is %d bytes", c.max)}
}

func (c *lineCodec) AppendAnswer(dst, answer []byte) ([]byte, error) {
	for _, b := range answer {
		if b == '\n' || b == '\r' {
			return dst, errAnswerNotALine
		}
	}
	return appendAnswerLine(dst, answer), nil
}

func (c *lineCodec) AppendError(dst []byte, _ int, msg string) []byte {
	return appendErrorLine(dst, msg)
}
func (c *lineCodec) CloseAfter() bool { return c.closeAfter }
func (c *lineCodec) BufferSize() int  { return c.max + 2 }

// NewRecvCodec returns the server codec of the lecture's recv protocol: the
// client sends the bare digits and reads once, so the bytes of each read
// the server gets are one request (a line ending is allowed, for clients
// such as nc); the answer is a line. It works as well as the lecture's
// code did: while every message arrives in one read, which holds for small
// messages on loopback from a client that waits for each answer. A read of
// more than max bytes is refused and the connection closes.
//
// Decode takes all of its input as one request: the caller passes it the
// bytes of one read.
func NewRecvCodec(max int) ServerCodec { return &recvCodec{lineCodec{max: max}} }

type recvCodec struct{ lineCodec }

func (c *recvCodec) Decode(in []byte, _ bool) (int, Decoded) {
	switch {
	case len(in) == 0:
		return 0, Decoded{}
	case len(in) > c.max:
		c.closeAfter = true
		return 0, Decoded{Kind: Refused, Status: http.StatusBadRequest, Close: true,
			Msg: fmt.Sprintf("request too long: the limit is %d bytes", c.max)}
	}
	return len(in), Decoded{Kind: Request, Payload: bytes.TrimRight(in, "\r\n")}
}

func (c *recvCodec) BufferSize() int { return c.max + 1 }

// errAnswerNotALine is the error of a task's answer that the line and recv
// protocols cannot carry: it holds a line break, and their answers are one
// line each.
var errAnswerNotALine = errors.New("the task's answer holds a line break, and the protocol's answers are one line: answer one line, or use the http protocol")

// appendAnswerLine appends an answer line: the answer and "\n".
func appendAnswerLine(dst, answer []byte) []byte {
	dst = append(dst, answer...)
	return append(dst, '\n')
}

// appendErrorLine appends an error line: "ERR ", msg with its line breaks
// replaced by spaces, and "\n".
func appendErrorLine(dst []byte, msg string) []byte {
	dst = append(dst, "ERR "...)
	start := len(dst)
	dst = append(dst, msg...)
	tail := dst[start:]
	for {
		i := bytes.IndexAny(tail, "\r\n")
		if i < 0 {
			break
		}
		tail[i] = ' '
		tail = tail[i+1:]
	}
	return append(dst, '\n')
}
