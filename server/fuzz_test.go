package server

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/primetime-lab/primetime"
)

// pipeConn is a net.Conn that reads a fixed input and records what is
// written, for driving a conn without a network.
type pipeConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (p *pipeConn) Read(b []byte) (int, error)       { return p.in.Read(b) }
func (p *pipeConn) Write(b []byte) (int, error)      { return p.out.Write(b) }
func (p *pipeConn) Close() error                     { return nil }
func (p *pipeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (p *pipeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (p *pipeConn) SetDeadline(time.Time) error      { return nil }
func (p *pipeConn) SetReadDeadline(time.Time) error  { return nil }
func (p *pipeConn) SetWriteDeadline(time.Time) error { return nil }

// echo answers every payload with itself, so fuzzing spends its time in
// the protocols rather than in the prime task.
var echo = primetime.TaskFunc("echo", func(_ context.Context, p []byte) ([]byte, error) {
	if len(p) == 0 {
		return nil, primetime.ErrBadRequest
	}
	return p, nil
})

// serveBytes feeds input to a connection of protocol and answers every
// request it reads; it returns what the server wrote and how many requests
// it counted, refused ones included: each is answered once.
func serveBytes(t *testing.T, protocol Protocol, input []byte) ([]byte, int) {
	s := &Server{Protocol: protocol, Task: echo, MaxLineBytes: 64, MaxHeaderBytes: 512, proto: protocol,
		Logger: slog.New(slog.DiscardHandler)}
	s.initLocked()
	pc := &pipeConn{in: bytes.NewReader(input)}
	c := newConn(s, pc)
	s.track(&c.session, c)
	for range len(input) + 1 {
		req, err := c.ReadRequest()
		if err != nil {
			break
		}
		answer, err := req.Task.Run(req.Context, req.Payload)
		if c.WriteAnswer(answer, err) != nil {
			break
		}
	}
	if n := s.Stats().Requests; n > uint64(len(input)) {
		t.Fatalf("%d requests from %d bytes", n, len(input))
	}
	c.Close()
	s.cancel(ErrServerClosed)
	return pc.out.Bytes(), int(s.Stats().Requests)
}

func fuzzSeeds(f *testing.F) {
	for _, seed := range []string{
		"10\n", "abc\n", "\n", "-3\r\n", "99999999999999999999\n", "\x00\xff\xfe\n",
		"GET /prime/10 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /?n=10 HTTP/1.0\r\n\r\n",
		"POST /prime/10 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
		"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"GET /prime/1 HTTP/1.1\r\n\r\nGET /prime/2 HTTP/1.1\r\n\r\n",
		// Three answers (405, 405, 400 and close), two of them refusals.
		"000 /0000000 HTTP/1.1\r\n\r\n000 /0 HTTP/1.1\r\n\r\n0",
	} {
		f.Add([]byte(seed))
	}
}

// FuzzLineAndRecv checks that nothing a client sends makes the line or the
// recv protocol panic, loop, or write more than a bounded answer per
// request, and that every answer is one line.
func FuzzLineAndRecv(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, input []byte) {
		for _, protocol := range []Protocol{ProtocolLine, ProtocolRecv} {
			out, requests := serveBytes(t, protocol, input)
			if len(out) > (requests+1)*200 {
				t.Fatalf("%s: %d bytes written for %d requests", protocol, len(out), requests)
			}
			if len(out) > 0 && out[len(out)-1] != '\n' {
				t.Fatalf("%s: answer %q does not end a line", protocol, out)
			}
		}
	})
}

// FuzzHTTP checks that nothing a client sends makes the http protocol
// panic or loop, and that everything it writes is a sequence of
// well-formed responses.
func FuzzHTTP(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, input []byte) {
		out, requests := serveBytes(t, ProtocolHTTP, input)
		br := bufio.NewReader(bytes.NewReader(out))
		for n := 0; ; n++ {
			if _, err := br.Peek(1); err == io.EOF {
				break
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("response %d of %q is malformed: %v", n, out, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if n >= requests {
				t.Fatalf("response %d of %q answers no request: %d counted", n, out, requests)
			}
		}
	})
}
