package loadtest

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/server"
)

func TestRunSpeaksEveryProtocol(t *testing.T) {
	for _, protocol := range server.Protocols() {
		t.Run(string(protocol), func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			srv := &server.Server{Protocol: protocol, Logger: discardLogger}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(l) }()
			defer func() {
				srv.Close()
				<-served
			}()
			sc := Scenario{Addr: l.Addr().String(), Protocol: protocol, Clients: 2, Long: "100", LongAfter: 50 * time.Millisecond, Duration: 200 * time.Millisecond, Interval: 50 * time.Millisecond}
			res, err := Run(context.Background(), sc, nil)
			require.NoError(t, err)
			assert.Positive(t, res.Summary.Answers)
			assert.Zero(t, res.Summary.Errors)
			assert.Equal(t, "541", res.Summary.LongAnswer)

			sc.Small, sc.LongAfter = "abc", -1
			res, err = Run(context.Background(), sc, nil)
			require.NoError(t, err)
			assert.Zero(t, res.Summary.Answers)
			assert.Equal(t, res.Summary.Errors, res.Summary.ErrorsByKind["err-answer"])
			want := `ERR bad request: want a positive integer n, got "abc"`
			if protocol == server.ProtocolHTTP {
				want = `HTTP 400 Bad Request: bad request: want a positive integer n, got "abc"`
			}
			assert.Equal(t, "err-answer: "+want, res.Events[0].Detail)
		})
	}
}

func TestHTTPClientReadsWithoutAllocating(t *testing.T) {
	const response = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Type: text/plain\r\n\r\n104729"
	stream := strings.NewReader(strings.Repeat(response, 300))
	c := &conn{br: bufio.NewReader(stream), proto: httpClient{}}
	allocs := testing.AllocsPerRun(200, func() {
		answer, refused, closing, err := c.proto.read(c)
		if err != nil || refused || closing || string(answer) != "104729" {
			t.Fatalf("read: %q %v %v %v", answer, refused, closing, err)
		}
	})
	assert.Zero(t, allocs)
}

func TestHTTPClientReadsWhatServersSay(t *testing.T) {
	cases := []struct {
		response string
		answer   string
		refused  bool
		closing  bool
		err      string
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n29", "29", false, false, ""},
		{"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nConnection: close\r\n\r\n29", "29", false, true, ""},
		{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n29", "29", false, true, ""},
		{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n29", "29", false, false, ""},
		{"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope", "HTTP 404 Not Found: nope", true, false, ""},
		{"HTTP/1.1 200 OK\r\n\r\n29", "", false, false, "no Content-Length"},
		{"SMTP ready\r\n", "", false, false, "malformed HTTP response"},
		{"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "", false, false, "Content-Length"},
	}
	for _, tc := range cases {
		c := &conn{br: bufio.NewReader(strings.NewReader(tc.response)), proto: httpClient{}}
		answer, refused, closing, err := c.proto.read(c)
		if tc.err != "" {
			assert.ErrorContains(t, err, tc.err, tc.response)
			continue
		}
		require.NoError(t, err, tc.response)
		assert.Equal(t, tc.answer, string(answer), tc.response)
		assert.Equal(t, tc.refused, refused, tc.response)
		assert.Equal(t, tc.closing, closing, tc.response)
	}
	assert.Equal(t, "GET /prime/a%2Fb HTTP/1.1\r\nHost: primetime\r\n\r\n", string(httpClient{}.request("a/b")))
	_, err := Run(context.Background(), Scenario{Addr: "x", Protocol: "smtp"}, nil)
	assert.ErrorContains(t, err, `unknown protocol "smtp"`)
}
