package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

func startProtocol(t *testing.T, text string, protocol server.Protocol) *testServer {
	t.Helper()
	s, err := strategy.Parse(text)
	require.NoError(t, err)
	return start(t, &server.Server{Strategy: s, Protocol: protocol})
}

// get asks url with client and returns the status and the body.
func get(t *testing.T, client *http.Client, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode == http.StatusOK {
		assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
		assert.Equal(t, int64(len(body)), resp.ContentLength)
	}
	return resp.StatusCode, string(body)
}

func TestHTTPWithEveryStrategy(t *testing.T) {
	for _, text := range append(allStrategies, processStrategies...) {
		t.Run(text, func(t *testing.T) {
			ts := startProtocol(t, text, server.ProtocolHTTP)
			transport := &http.Transport{MaxIdleConnsPerHost: 1}
			defer transport.CloseIdleConnections()
			client := &http.Client{Transport: transport, Timeout: testkit.Bound}
			base := "http://" + ts.addr

			reused := 0
			trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
				if info.Reused {
					reused++
				}
			}}
			for _, path := range []string{"/prime/10", "/?n=10", "/prime/%2010"} {
				req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", base+path, nil)
				require.NoError(t, err)
				resp, err := client.Do(req)
				require.NoError(t, err)
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(t, err)
				assert.Equal(t, http.StatusOK, resp.StatusCode, path)
				assert.Equal(t, "29", string(body), path)
			}

			status, body := get(t, client, "GET", base+"/prime/abc")
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Equal(t, `bad request: want a positive integer n, got "abc"`, body)
			status, body = get(t, client, "GET", base+"/?n=2000000")
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Contains(t, body, "over the limit")
			status, _ = get(t, client, "GET", base+"/?m=3")
			assert.Equal(t, http.StatusBadRequest, status)
			status, _ = get(t, client, "GET", base+"/nothing/here")
			assert.Equal(t, http.StatusNotFound, status)
			status, _ = get(t, client, "POST", base+"/prime/10")
			assert.Equal(t, http.StatusMethodNotAllowed, status)
			status, body = get(t, client, "GET", base+"/prime/1")
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, "2", body)

			assert.Equal(t, 2, reused, "the second and third requests reused the connection")
			assert.Equal(t, uint64(1), ts.Stats().Accepted, "errors do not close a keep-alive connection")
		})
	}
}

// raw sends a raw request on a new connection and returns everything the
// server sends until it closes the connection or the bound passes.
func raw(t *testing.T, addr, request string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, request)
	require.NoError(t, err)
	c.SetReadDeadline(time.Now().Add(testkit.Bound))
	out, err := io.ReadAll(c)
	require.NoError(t, err, "the server closes the connection")
	return string(out)
}

func TestHTTPClosesWhenAskedAndOnMalformedRequests(t *testing.T) {
	for _, text := range []string{"perconn", "loop"} {
		t.Run(text, func(t *testing.T) {
			ts := startProtocol(t, text, server.ProtocolHTTP)
			out := raw(t, ts.addr, "GET /prime/10 HTTP/1.0\r\n\r\n")
			assert.True(t, strings.HasPrefix(out, "HTTP/1.0 200 OK\r\n"), out)
			assert.True(t, strings.HasSuffix(out, "\r\n\r\n29"), out)

			out = raw(t, ts.addr, "GET /prime/10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			assert.Contains(t, out, "Connection: close")
			assert.True(t, strings.HasSuffix(out, "29"), out)

			out = raw(t, ts.addr, "GARBAGE\r\n\r\n")
			assert.True(t, strings.HasPrefix(out, "HTTP/1.1 400 Bad Request\r\n"), out)
			assert.Contains(t, out, "malformed request")

			out = raw(t, ts.addr, "GET /prime/10 HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 10000)+"\r\n\r\n")
			assert.True(t, strings.HasPrefix(out, "HTTP/1.1 431 Request Header Fields Too Large\r\n"), out)

			out = raw(t, ts.addr, "GET /prime/10 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
			assert.True(t, strings.HasPrefix(out, "HTTP/1.1 413 Request Entity Too Large\r\n"), out)

			out = raw(t, ts.addr, "GET /prime/10 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
			assert.True(t, strings.HasPrefix(out, "HTTP/1.1 501 Not Implemented\r\n"), out)
			assert.Contains(t, out, "transfer encoding chunked is not implemented")

			// HTTP/1.0 with keep-alive keeps the connection.
			c := testkit.Dial(t, ts.addr)
			for range 2 {
				_, err := io.WriteString(c.Conn(), "GET /?n=3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
				require.NoError(t, err)
				c.Conn().SetReadDeadline(time.Now().Add(testkit.Bound))
				resp, err := http.ReadResponse(c.Reader(), nil)
				require.NoError(t, err)
				body, _ := io.ReadAll(resp.Body)
				assert.Equal(t, "5", string(body))
				assert.Equal(t, "keep-alive", resp.Header.Get("Connection"))
			}
		})
	}
}

func TestHTTPWithCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("no curl")
	}
	ts := startProtocol(t, "loop", server.ProtocolHTTP)
	out, err := exec.Command(curl, "-s", "-w", " %{http_code} %{num_connects}", "http://"+ts.addr+"/prime/10", "http://"+ts.addr+"/?n=100").Output()
	require.NoError(t, err)
	assert.Equal(t, "29 200 1541 200 0", string(out), "two answers on one connection")
}

func TestRecvWithEveryStrategy(t *testing.T) {
	for _, text := range append(allStrategies, processStrategies...) {
		t.Run(text, func(t *testing.T) {
			ts := startProtocol(t, text, server.ProtocolRecv)
			c, err := net.Dial("tcp", ts.addr)
			require.NoError(t, err)
			defer c.Close()
			buf := make([]byte, 100)
			ask := func(msg string) string {
				_, err := io.WriteString(c, msg)
				require.NoError(t, err)
				c.SetReadDeadline(time.Now().Add(testkit.Bound))
				n, err := c.Read(buf)
				require.NoError(t, err)
				return string(buf[:n])
			}
			assert.Equal(t, "29\n", ask("10"))
			assert.Equal(t, "541\n", ask("100"))
			assert.Equal(t, "2\n", ask("1\n"), "a line ending is allowed")
			assert.True(t, strings.HasPrefix(ask("abc"), "ERR bad request"))
			assert.Equal(t, "3\n", ask("2"))
		})
	}
}

func TestRecvRefusesAnOverlongRead(t *testing.T) {
	for _, text := range []string{"perconn", "loop"} {
		t.Run(text, func(t *testing.T) {
			s := &server.Server{Strategy: parse(t, text), Protocol: server.ProtocolRecv, MaxLineBytes: 8}
			ts := start(t, s)
			out := raw(t, ts.addr, "123456789")
			assert.Equal(t, "ERR request too long: the limit is 8 bytes\n", out)
		})
	}
}

// lecturesClient is a client written as the lecture wrote its clients:
// Python sockets, send the digits, one recv.
const lecturesClient = `
import socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.connect((sys.argv[1], int(sys.argv[2])))
for n in (1, 10, 100, 1000):
    sock.send(str(n).encode('ascii'))
    resp = sock.recv(100)
    print(n, resp.decode('ascii').strip())
`

func TestRecvWithTheLecturesPythonClient(t *testing.T) {
	for _, text := range []string{"perconn", "loop"} {
		t.Run(text, func(t *testing.T) {
			python, err := exec.LookPath("python3")
			if err != nil {
				t.Skip("no python3")
			}
			ts := startProtocol(t, text, server.ProtocolRecv)
			host, port, err := net.SplitHostPort(ts.addr)
			require.NoError(t, err)
			cmd := exec.Command(python, "-c", lecturesClient, host, port)
			out, err := cmd.Output()
			require.NoError(t, err)
			assert.Equal(t, "1 2\n10 29\n100 541\n1000 7919\n", string(out))
		})
	}
}

func TestUnknownProtocolIsRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &server.Server{Protocol: "gopher"}
	assert.EqualError(t, srv.Serve(l), `server: unknown protocol "gopher" (want line, http, recv)`)
	_, err = l.Accept()
	assert.Error(t, err, "Serve closed the listener")
}

func TestAnAnswerOfTwoLinesIsRefusedByTheLineProtocols(t *testing.T) {
	twoLines := primetime.TaskFunc("two-lines", func(_ context.Context, p []byte) ([]byte, error) {
		if string(p) == "two" {
			return []byte("two\nlines"), nil
		}
		return p, nil
	})
	for _, text := range []string{"perconn", "loop"} {
		t.Run(text, func(t *testing.T) {
			ts := start(t, &server.Server{Strategy: parse(t, text), Task: twoLines})
			c := testkit.Dial(t, ts.addr)
			assert.Equal(t, "ERR the task's answer holds a line break, and the protocol's answers are one line: answer one line, or use the http protocol", c.Ask("two"))
			assert.Equal(t, "next", c.Ask("next"), "the next answer is the next request's")
			st := ts.Stats()
			assert.Equal(t, uint64(1), st.Errors)
			assert.Equal(t, uint64(1), st.Answered)
		})
	}
}
