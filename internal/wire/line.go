// Package wire holds the codecs of the server's wire protocols.
package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// ErrLineTooLong is returned by ReadLine for a line longer than its limit.
var ErrLineTooLong = errors.New("request line too long")

// ReadLine reads one request line of at most max bytes, not counting its
// "\n" or "\r\n" ending, and returns it without the ending. The returned
// slice points into br's buffer and is valid until the next read. br's
// buffer must hold at least max+2 bytes.
//
// A last line that ends at EOF without a newline is returned as a line; the
// next call returns io.EOF. A line over max bytes returns ErrLineTooLong.
func ReadLine(br *bufio.Reader, max int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	switch {
	case err == nil:
		line = line[:len(line)-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, ErrLineTooLong
	case err == io.EOF && len(line) > 0:
		// An unterminated last line is still a request.
	default:
		return nil, err
	}
	if len(line) > max {
		return nil, ErrLineTooLong
	}
	return line, nil
}

// AppendAnswer appends an answer line: the answer and "\n".
func AppendAnswer(dst, answer []byte) []byte {
	dst = append(dst, answer...)
	return append(dst, '\n')
}

// AppendError appends an error line: "ERR ", msg with its line breaks
// replaced by spaces, and "\n".
func AppendError(dst []byte, msg string) []byte {
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
