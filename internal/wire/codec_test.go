package wire

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// feed plays chunks, one read each, to a new codec as a server does, and
// returns what it decoded: "req PAYLOAD" or "refused STATUS MSG", and
// "close" where the connection closes. Every request is answered before
// the next is decoded, and unconsumed bytes are kept for the next round.
func feed(codec ServerCodec, chunks ...string) []string {
	var out []string
	var in []byte
	for i, chunk := range chunks {
		in = append(in, chunk...)
		eof := i == len(chunks)-1
		for {
			n, d := codec.Decode(in, eof)
			if n > len(in) {
				panic(fmt.Sprintf("consumed %d of %d bytes", n, len(in)))
			}
			in = in[n:]
			switch d.Kind {
			case Request:
				out = append(out, "req "+string(d.Payload))
				codec.AppendAnswer(nil, d.Payload) // a payload of one line is an answer too
				if codec.CloseAfter() {
					return append(out, "close")
				}
				continue
			case Refused:
				out = append(out, fmt.Sprintf("refused %d %s", d.Status, d.Msg))
				if d.Close || codec.CloseAfter() {
					return append(out, "close")
				}
				continue
			}
			if n == 0 {
				break
			}
		}
	}
	return out
}

func TestLineCodec(t *testing.T) {
	const max = 8
	assert.Equal(t, []string{"req 10", "req 20", "req ", "req 12345678", "req last"},
		feed(NewLineCodec(max), "10\n20\r\n\n12345678\r\nlast"), "an unterminated last line is a request")
	assert.Equal(t, []string{"req 1", "refused 400 request line too long: the limit is 8 bytes", "close"},
		feed(NewLineCodec(max), "1\n123456789\n2\n"), "nine bytes and a newline fit the buffer but not the limit")
	assert.Equal(t, []string{"refused 400 request line too long: the limit is 8 bytes", "close"},
		feed(NewLineCodec(max), strings.Repeat("x", 100)), "a line longer than the buffer, without its newline yet")
	n, d := NewLineCodec(max).Decode([]byte("12345678\r"), false)
	assert.Equal(t, 0, n, "waiting for the \\n of a line of max bytes")
	assert.Equal(t, NeedMore, d.Kind)
}

func TestRecvCodecTakesEachReadAsOneRequest(t *testing.T) {
	assert.Equal(t, []string{"req 10"}, feed(NewRecvCodec(8), "10"))
	assert.Equal(t, []string{"req 10"}, feed(NewRecvCodec(8), "10\r\n"), "a line ending is allowed")
	assert.Equal(t, []string{"refused 400 request too long: the limit is 8 bytes", "close"}, feed(NewRecvCodec(8), "123456789"))
	c := NewRecvCodec(8)
	n, d := c.Decode([]byte("12"), false)
	assert.Equal(t, 2, n)
	assert.Equal(t, "12", string(d.Payload))
	n, d = c.Decode(nil, true)
	assert.Equal(t, 0, n)
	assert.Equal(t, NeedMore, d.Kind)
}

func TestHTTPCodec(t *testing.T) {
	get := func(target string) string { return "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n" }
	for _, tc := range []struct {
		name, input string
		want        []string
	}{
		{"two keep-alive requests", get("/prime/10") + get("/?n=20"), []string{"req 10", "req 20"}},
		{"bare LF line endings", "GET /prime/3 HTTP/1.1\nHost: x\n\n", []string{"req 3"}},
		{"missing n", get("/?m=1") + get("/prime/1"), []string{"refused 400 missing n: ask GET /?n=10 or GET /prime/10", "req 1"}},
		{"unknown path", get("/favicon.ico"), []string{"refused 404 no such path: ask GET /?n=10 or GET /prime/10"}},
		{"a body is skipped", "POST /prime/10 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc" + get("/prime/2"),
			[]string{"refused 405 method POST not allowed: use GET", "req 2"}},
		{"chunked", "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
			[]string{"refused 501 transfer encoding chunked is not implemented: send a body of known length (Content-Length), or none", "close"}},
		{"an empty chunked body", "GET /prime/1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			[]string{"refused 501 transfer encoding chunked is not implemented: send a body of known length (Content-Length), or none", "close"}},
		{"a body over the limit", "GET /prime/1 HTTP/1.1\r\nContent-Length: 100000\r\n\r\n",
			[]string{"refused 413 request body over the limit of 65536 bytes", "close"}},
		{"a head over the limit", "GET /prime/1 HTTP/1.1\r\nX: " + strings.Repeat("a", 600) + "\r\n\r\n",
			[]string{"refused 431 request header over the limit of 512 bytes", "close"}},
		{"garbage", "GARBAGE\r\n\r\n" + get("/prime/1"), []string{`refused 400 malformed request: malformed HTTP request "GARBAGE"`, "close"}},
		{"a blank request line", "\r\n" + get("/prime/1"), []string{`refused 400 malformed request: malformed HTTP request ""`, "close"}},
		{"cut short", "GET /prime/1 HTTP/1.1\r\nHost", []string{"refused 400 malformed request: unexpected EOF", "close"}},
		{"Connection: close", "GET /prime/1 HTTP/1.1\r\nConnection: close\r\n\r\n" + get("/prime/2"), []string{"req 1", "close"}},
		{"HTTP/1.0", "GET /prime/1 HTTP/1.0\r\n\r\n" + get("/prime/2"), []string{"req 1", "close"}},
		{"HTTP/1.0 keep-alive", "GET /prime/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + get("/prime/2"), []string{"req 1", "req 2"}},
		{"the fuzz input with three answers", "000 /0000000 HTTP/1.1\r\n\r\n000 /0 HTTP/1.1\r\n\r\n0",
			[]string{"refused 405 method 000 not allowed: use GET", "refused 405 method 000 not allowed: use GET", "refused 400 malformed request: unexpected EOF", "close"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, feed(NewHTTPCodec(512), tc.input))
		})
	}
}

func TestHTTPCodecWritesResponsesThatNetHTTPReads(t *testing.T) {
	c := NewHTTPCodec(512)
	_, d := c.Decode([]byte("GET /prime/10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), false)
	require.Equal(t, Request, d.Kind)
	out, err := c.AppendAnswer(nil, []byte("29"))
	require.NoError(t, err)
	_, d = c.Decode([]byte("PUT /prime/10 HTTP/1.1\r\n\r\n"), false)
	require.Equal(t, Refused, d.Kind)
	out = c.AppendError(out, d.Status, d.Msg)

	br := bufio.NewReader(strings.NewReader(string(out)))
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, "HTTP/1.0 200 OK", resp.Proto+" "+resp.Status)
	assert.Equal(t, "keep-alive", resp.Header.Get("Connection"))
	resp.Body.Close()
	resp, err = http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "GET", resp.Header.Get("Allow"))
	resp.Body.Close()
}

func TestLineAnswersAreOneLine(t *testing.T) {
	for _, c := range []ServerCodec{NewLineCodec(8), NewRecvCodec(8)} {
		out, err := c.AppendAnswer([]byte("x"), []byte("two\nlines"))
		assert.ErrorIs(t, err, errAnswerNotALine)
		assert.Equal(t, "x", string(out), "nothing appended")
		out, err = c.AppendAnswer(nil, []byte("one line"))
		require.NoError(t, err)
		assert.Equal(t, "one line\n", string(out))
	}
}

func TestAppendAnswerAndError(t *testing.T) {
	assert.Equal(t, "29\n", string(appendAnswerLine(nil, []byte("29"))))
	assert.Equal(t, "ERR two lines\n", string(appendErrorLine(nil, "two\nlines")))
	assert.Equal(t, "x ERR a  b\n", string(appendErrorLine([]byte("x "), "a\r\nb")))
}

func TestHTTPCodecRefusesAMalformedRequestLineBeforeTheHeadEnds(t *testing.T) {
	c := NewHTTPCodec(512)
	n, d := c.Decode([]byte("GARBAGE\r\nHost: x\r\n"), false)
	assert.Zero(t, n)
	assert.Equal(t, Decoded{Kind: Refused, Status: http.StatusBadRequest, Close: true,
		Msg: `malformed request: malformed HTTP request "GARBAGE"`}, d)
	n, d = NewHTTPCodec(512).Decode([]byte("GET /prime/1 HTTP/1.1\r\nHost: x\r\n"), false)
	assert.Equal(t, 0, n)
	assert.Equal(t, NeedMore, d.Kind, "a well-formed request line waits for the rest of its head")
}
