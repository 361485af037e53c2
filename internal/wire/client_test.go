package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHTTPClientDecodesWithoutAllocating(t *testing.T) {
	const response = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Type: text/plain\r\n\r\n104729"
	stream := []byte(strings.Repeat(response, 300))
	c := NewHTTPClient()
	allocs := testing.AllocsPerRun(200, func() {
		n, a, err := c.DecodeAnswer(stream)
		if err != nil || n != len(response) || a.Refused || a.Close || string(a.Body) != "104729" {
			t.Fatalf("decode: %d %+v %v", n, a, err)
		}
		stream = stream[n:]
	})
	assert.Zero(t, allocs)
}

func TestHTTPClientDecodesWhatServersSay(t *testing.T) {
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
		{"SMTP ready\r\n", "", false, false, "malformed answer"},
		{"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "", false, false, "Content-Length"},
	}
	for _, tc := range cases {
		n, a, err := NewHTTPClient().DecodeAnswer([]byte(tc.response))
		if tc.err != "" {
			assert.ErrorIs(t, err, ErrMalformed, tc.response)
			assert.ErrorContains(t, err, tc.err, tc.response)
			continue
		}
		require.NoError(t, err, tc.response)
		assert.Equal(t, len(tc.response), n, tc.response)
		assert.Equal(t, tc.answer, string(a.Body), tc.response)
		assert.Equal(t, tc.refused, a.Refused, tc.response)
		assert.Equal(t, tc.closing, a.Close, tc.response)
		for cut := range len(tc.response) {
			n, _, err := NewHTTPClient().DecodeAnswer([]byte(tc.response[:cut]))
			require.NoError(t, err, "%q cut at %d", tc.response, cut)
			assert.Zero(t, n, "%q cut at %d is no whole answer", tc.response, cut)
		}
	}
	assert.Equal(t, "GET /prime/a%2Fb HTTP/1.1\r\nHost: primetime\r\n\r\n", string(NewHTTPClient().AppendRequest(nil, "a/b")))
}

func TestLineClientDecodesAnswerLines(t *testing.T) {
	c := NewLineClient()
	n, a, err := c.DecodeAnswer([]byte("29\r\nERR bad request\n"))
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	assert.Equal(t, Answer{Body: []byte("29")}, a)
	n, a, err = c.DecodeAnswer([]byte("ERR bad request\n"))
	require.NoError(t, err)
	assert.Equal(t, 16, n)
	assert.True(t, a.Refused)
	n, _, err = c.DecodeAnswer([]byte("2"))
	assert.Zero(t, n, "no whole line yet")
	assert.NoError(t, err)
	assert.Equal(t, "10\n", string(c.AppendRequest(nil, "10")))
	assert.Equal(t, "10", string(NewRecvClient().AppendRequest(nil, "10")))
}
