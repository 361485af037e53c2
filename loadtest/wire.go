package loadtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/primetime-lab/primetime/server"
)

// clientProtocol formats requests and reads answers. Reading an answer
// allocates nothing unless the answer is an error answer.
type clientProtocol interface {
	// request returns the bytes that ask for payload.
	request(payload string) []byte
	// read reads one answer. refused is true for an error answer, which
	// answer then describes; closing is true if the server closes the
	// connection after it. answer is valid until the next read.
	read(c *conn) (answer []byte, refused, closing bool, err error)
}

func clientProtocolFor(name server.Protocol) (clientProtocol, error) {
	p, err := server.ParseProtocol(string(name))
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}
	switch p {
	case server.ProtocolHTTP:
		return httpClient{}, nil
	case server.ProtocolRecv:
		return recvClient{}, nil
	}
	return lineClient{}, nil
}

var errPrefix = []byte("ERR")

// readLine reads an answer line, as the line and recv protocols answer.
func readLine(c *conn) ([]byte, bool, bool, error) {
	answer, err := c.br.ReadSlice('\n')
	if err != nil {
		return nil, false, false, err
	}
	answer = bytes.TrimRight(answer, "\r\n")
	return answer, bytes.HasPrefix(answer, errPrefix), false, nil
}

type lineClient struct{}

func (lineClient) request(payload string) []byte { return []byte(payload + "\n") }
func (lineClient) read(c *conn) ([]byte, bool, bool, error) {
	return readLine(c)
}

// recvClient speaks as the lecture's clients do: the bare digits, one
// message per request.
type recvClient struct{}

func (recvClient) request(payload string) []byte { return []byte(payload) }
func (recvClient) read(c *conn) ([]byte, bool, bool, error) {
	return readLine(c)
}

// httpClient sends GET /prime/N over HTTP/1.1 with keep-alive and reads the
// response with a parser of its own, which allocates nothing per answer.
type httpClient struct{}

func (httpClient) request(payload string) []byte {
	return []byte("GET /prime/" + url.PathEscape(payload) + " HTTP/1.1\r\nHost: primetime\r\n\r\n")
}

var errMalformed = errors.New("malformed HTTP response")

func (httpClient) read(c *conn) ([]byte, bool, bool, error) {
	status, err := c.br.ReadSlice('\n')
	if err != nil {
		return nil, false, false, err
	}
	if len(status) < 12 || !bytes.HasPrefix(status, []byte("HTTP/1.")) {
		return nil, false, false, fmt.Errorf("%w: status line %q", errMalformed, bytes.TrimSpace(status))
	}
	ok := string(status[9:12]) == "200"
	closing := status[7] == '0' // HTTP/1.0 closes unless told otherwise
	var statusText string
	if !ok {
		statusText = string(bytes.TrimSpace(status[9:]))
	}
	length := -1
	for {
		h, err := c.br.ReadSlice('\n')
		if err != nil {
			return nil, false, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, found := bytes.Cut(h, []byte(":"))
		if !found {
			return nil, false, false, fmt.Errorf("%w: header %q", errMalformed, h)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.Atoi(string(value))
			if err != nil || n < 0 {
				return nil, false, false, fmt.Errorf("%w: Content-Length %q", errMalformed, value)
			}
			length = n
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close")) || (closing && !bytes.EqualFold(value, []byte("keep-alive")))
		}
	}
	if length < 0 {
		return nil, false, false, fmt.Errorf("%w: no Content-Length", errMalformed)
	}
	if length > cap(c.body) {
		c.body = make([]byte, length)
	}
	body := c.body[:length]
	if _, err := io.ReadFull(c.br, body); err != nil {
		return nil, false, false, err
	}
	if !ok {
		return []byte("HTTP " + statusText + ": " + string(body)), true, closing, nil
	}
	return body, false, closing, nil
}
