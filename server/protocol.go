package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/wire"
)

// The wire protocols a Server speaks; see Server.Protocol.
const (
	// ProtocolLine: the client sends a decimal n and "\n"; the answer is
	// a line. The default.
	ProtocolLine = "line"
	// ProtocolHTTP: HTTP/1.1 with keep-alive; GET /?n=10 or GET /prime/10
	// answers 29.
	ProtocolHTTP = "http"
	// ProtocolRecv: what the lecture's Python clients speak: each read the
	// server gets is one request, and the answer is a line.
	ProtocolRecv = "recv"
)

// Protocols lists the protocols' names.
var Protocols = []string{ProtocolLine, ProtocolHTTP, ProtocolRecv}

// protocol is a wire protocol: how a conn reads a request and writes an
// answer.
type protocol interface {
	// read reads the next request and returns its payload. A request the
	// protocol refuses before any task sees it is answered here and
	// reported as errRefused; a refusal that must close the connection
	// sets c.linger too.
	read(c *conn) ([]byte, error)
	// format appends the answer to the request last read to dst.
	format(c *conn, dst, answer []byte, err error) []byte
}

// protocolFor returns the protocol named name ("" is the line protocol).
func protocolFor(name string) (protocol, error) {
	switch name {
	case "", ProtocolLine:
		return lineProtocol{}, nil
	case ProtocolHTTP:
		return httpProtocol{}, nil
	case ProtocolRecv:
		return recvProtocol{}, nil
	}
	return nil, fmt.Errorf("server: unknown protocol %q (want %s)", name, strings.Join(Protocols, ", "))
}

// lineProtocol: a request is a line; so is an answer.
type lineProtocol struct{}

func (lineProtocol) read(c *conn) ([]byte, error) {
	line, err := wire.ReadLine(c.br, c.s.maxLineBytes())
	if errors.Is(err, wire.ErrLineTooLong) {
		c.linger = true
		return nil, c.refuse(wire.AppendError(c.out[:0], fmt.Sprintf("request line too long: the limit is %d bytes", c.s.maxLineBytes())))
	}
	return line, err
}

func (lineProtocol) format(_ *conn, dst, answer []byte, err error) []byte {
	if err != nil {
		return wire.AppendError(dst, err.Error())
	}
	return wire.AppendAnswer(dst, answer)
}

// recvProtocol is the lecture's protocol: the client sends the bare digits
// and reads once, so each read the server gets is taken as one request. It
// works as well as the lecture's code did: only while every message
// arrives in one read, which holds for small messages on loopback and for a
// client that waits for each answer before it sends again. A message split
// across reads, or two sent back to back, are taken for different requests.
type recvProtocol struct{}

func (recvProtocol) read(c *conn) ([]byte, error) {
	max := c.s.maxLineBytes()
	buf := c.recvBuffer(max + 1)
	n, err := c.br.Read(buf)
	if n == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		return nil, err
	}
	if n > max {
		c.linger = true
		return nil, c.refuse(wire.AppendError(c.out[:0], fmt.Sprintf("request too long: the limit is %d bytes", max)))
	}
	// A line ending is allowed, for clients such as nc.
	return bytes.TrimRight(buf[:n], "\r\n"), nil
}

func (recvProtocol) format(c *conn, dst, answer []byte, err error) []byte {
	return lineProtocol{}.format(c, dst, answer, err)
}

// recvBuffer returns the conn's buffer for one read of the recv protocol.
func (c *conn) recvBuffer(n int) []byte {
	if cap(c.recv) < n {
		c.recv = make([]byte, n)
	}
	return c.recv[:n]
}

// httpProtocol is HTTP/1.1 with keep-alive, and HTTP/1.0, parsed and written
// by the standard library: GET /?n=10 and GET /prime/10.
type httpProtocol struct{}

// maxBodyBytes bounds a request body the server reads and discards; GET
// requests have none, but a client may send one.
const maxBodyBytes = 64 << 10

func (httpProtocol) read(c *conn) ([]byte, error) {
	c.http = nil
	c.lr.N = int64(c.s.maxHeaderBytes())
	req, err := http.ReadRequest(c.br)
	if err != nil {
		switch {
		case c.lr.N == 0:
			c.linger, c.closeAfter = true, true
			return nil, c.refuse(httpError(c, http.StatusRequestHeaderFieldsTooLarge,
				fmt.Sprintf("request header over the limit of %d bytes", c.s.maxHeaderBytes())))
		case errors.Is(err, io.EOF):
			return nil, err // the client closed the connection between requests
		case isTimeout(err):
			return nil, err
		}
		c.linger, c.closeAfter = true, true
		return nil, c.refuse(httpError(c, http.StatusBadRequest, "malformed request: "+err.Error()))
	}
	c.lr.N = math.MaxInt64
	c.http = req
	c.closeAfter = req.Close
	// Read and drop a body, which a GET should not have, so that the next
	// request starts where it should.
	if req.ContentLength > maxBodyBytes || (req.ContentLength < 0 && len(req.TransferEncoding) > 0) {
		c.linger, c.closeAfter = true, true
		return nil, c.refuse(httpError(c, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over the limit of %d bytes", maxBodyBytes)))
	}
	if _, err := io.Copy(io.Discard, req.Body); err != nil {
		return nil, err
	}
	if req.Method != http.MethodGet {
		return nil, c.refuse(httpError(c, http.StatusMethodNotAllowed, "method "+req.Method+" not allowed: use GET"))
	}
	switch {
	case req.URL.Path == "/":
		q := req.URL.Query()
		if !q.Has("n") {
			return nil, c.refuse(httpError(c, http.StatusBadRequest, "missing n: ask GET /?n=10 or GET /prime/10"))
		}
		return []byte(q.Get("n")), nil
	case strings.HasPrefix(req.URL.Path, "/prime/"):
		return []byte(strings.TrimPrefix(req.URL.Path, "/prime/")), nil
	}
	return nil, c.refuse(httpError(c, http.StatusNotFound, "no such path: ask GET /?n=10 or GET /prime/10"))
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func (httpProtocol) format(c *conn, dst, answer []byte, err error) []byte {
	if err == nil {
		return appendHTTP(c, dst, http.StatusOK, answer)
	}
	// A failed or panicking task is the server's fault.
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, primetime.ErrBadRequest):
		status = http.StatusBadRequest
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		status = http.StatusServiceUnavailable
	}
	return appendHTTP(c, dst, status, []byte(err.Error()))
}

// httpError formats an error response for a request that no task saw.
func httpError(c *conn, status int, msg string) []byte {
	return appendHTTP(c, c.out[:0], status, []byte(msg))
}

// appendHTTP appends a text/plain response, written by net/http.
func appendHTTP(c *conn, dst []byte, status int, body []byte) []byte {
	resp := &http.Response{
		StatusCode:    status,
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
		ContentLength: int64(len(body)),
		Body:          io.NopCloser(bytes.NewReader(body)),
		Close:         c.closeAfter,
	}
	if req := c.http; req != nil {
		resp.ProtoMajor, resp.ProtoMinor = req.ProtoMajor, req.ProtoMinor
		if req.ProtoMinor == 0 && !c.closeAfter {
			// An HTTP/1.0 client keeps the connection only if told.
			resp.Header.Set("Connection", "keep-alive")
		}
	}
	if status == http.StatusMethodNotAllowed {
		resp.Header.Set("Allow", http.MethodGet)
	}
	buf := bytes.NewBuffer(dst)
	resp.Write(buf) // writing to a bytes.Buffer cannot fail
	return buf.Bytes()
}

// maxHeaderBytes returns the limit of an HTTP request's head.
func (s *Server) maxHeaderBytes() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes
	}
	return DefaultMaxHeaderBytes
}
