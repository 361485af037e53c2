package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEveryProtocolsTwoSidesUnderstandEachOther(t *testing.T) {
	require.Equal(t, []Protocol{Line, HTTP, Recv}, Protocols(), "the default first")
	for _, p := range Protocols() {
		client, server := p.ClientCodec(), p.ServerCodec(Limits{})
		req := client.AppendRequest(nil, "10")
		n, d := server.Decode(req, false)
		require.Equal(t, Request, d.Kind, "%s: %q", p, req)
		assert.Equal(t, len(req), n, p)
		assert.Equal(t, "10", string(d.Payload), p)
		out, err := server.AppendAnswer(nil, []byte("29"))
		require.NoError(t, err)
		n, a, err := client.DecodeAnswer(out)
		require.NoError(t, err, p)
		assert.Equal(t, len(out), n, p)
		assert.Equal(t, "29", string(a.Body), p)
		assert.False(t, a.Refused, p)

		refusal := server.AppendError(nil, 400, "no")
		_, a, err = client.DecodeAnswer(refusal)
		require.NoError(t, err, p)
		assert.True(t, a.Refused, "%s: %q", p, refusal)
	}
}

func TestParseNamesTheProtocols(t *testing.T) {
	p, err := Parse("")
	require.NoError(t, err)
	assert.Equal(t, Line, p, "the default")
	p, err = Parse("recv")
	require.NoError(t, err)
	assert.Equal(t, Recv, p)
	_, err = Parse("gopher")
	assert.EqualError(t, err, `unknown protocol "gopher" (want line, http, recv)`)
}

func TestLimitsDefaultAndApply(t *testing.T) {
	assert.Equal(t, DefaultMaxLine+2, Line.ServerCodec(Limits{}).BufferSize())
	assert.Equal(t, 10, Line.ServerCodec(Limits{MaxLine: 8}).BufferSize())
	assert.Equal(t, DefaultMaxHeader, HTTP.ServerCodec(Limits{}).BufferSize())
	assert.Equal(t, 9, Recv.ServerCodec(Limits{MaxLine: 8}).BufferSize())
}

func TestNoInputBeforeEOFIsNeedMore(t *testing.T) {
	for _, p := range Protocols() {
		c := p.ServerCodec(Limits{})
		_, d := c.Decode(nil, false)
		assert.Equal(t, NeedMore, d.Kind, "%s, at the start", p)
		req := p.ClientCodec().AppendRequest(nil, "1")
		n, d := c.Decode(req, false)
		require.Equal(t, Request, d.Kind, p)
		_, d = c.Decode(req[n:], false)
		assert.Equal(t, NeedMore, d.Kind, "%s, after a request", p)
	}
	c := HTTP.ServerCodec(Limits{})
	n, _ := c.Decode([]byte("GET /prime/1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"), false)
	_, d := c.Decode(nil, false)
	assert.Equal(t, NeedMore, d.Kind, "http, in the middle of a body it skips (%d bytes taken)", n)
}
