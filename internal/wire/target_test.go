package wire

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readAnswers feeds a target client the chunks of a stream as a connection
// would, then its end, and returns its answers as text ("ok 200 OK, 2
// bytes", "refused HTTP 500 ...", each with " close" if the connection
// closes after it), and the error that stopped it.
func readAnswers(c *TargetClient, chunks ...string) ([]string, error) {
	var out []string
	var buf []byte
	for _, chunk := range chunks {
		buf = append(buf, chunk...)
		for {
			n, a, err := c.DecodeAnswer(buf)
			if err != nil {
				return out, err
			}
			if n == 0 {
				break
			}
			buf = buf[n:]
			if !a.Partial {
				out = append(out, answerText(a))
			}
		}
	}
	if a, ok := c.DecodeEOF(); ok {
		out = append(out, answerText(a))
	} else if len(buf) > 0 || c.state != inHead {
		out = append(out, "cut short")
	}
	return out, nil
}

func answerText(a Answer) string {
	s := "ok " + string(a.Body)
	if a.Refused {
		s = "refused " + string(a.Body)
	}
	if a.Close {
		s += " close"
	}
	return s
}

func TestTheTargetClientReadsEveryFraming(t *testing.T) {
	for _, tc := range []struct {
		name, stream string
		o            TargetOptions
		want         []string
	}{
		{"content length, twice on one connection", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", TargetOptions{},
			[]string{"ok 200 OK, 2 bytes", "ok 200 OK, 0 bytes"}},
		{"chunked, with an extension and a trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n", TargetOptions{Keep: true},
			[]string{"ok hello0123456789"}},
		{"to the connection's end", "HTTP/1.1 200 OK\r\n\r\nall of it", TargetOptions{Keep: true}, []string{"ok all of it close"}},
		{"after interim answers", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", TargetOptions{},
			[]string{"ok 200 OK, 1 bytes"}},
		{"HEAD has no body, whatever its length says", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", TargetOptions{Head: true},
			[]string{"ok 200 OK, 0 bytes", "ok 200 OK, 0 bytes"}},
		{"204 and 304 have none", "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", TargetOptions{OK: func(int) bool { return true }},
			[]string{"ok 204 No Content, 0 bytes", "ok 304 Not Modified, 0 bytes"}},
		{"Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", TargetOptions{}, []string{"ok 200 OK, 0 bytes close"}},
		{"HTTP/1.0 closes unless kept alive", "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", TargetOptions{},
			[]string{"ok 200 OK, 0 bytes close", "ok 200 OK, 0 bytes"}},
		{"an error status, quoting its body", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 9\r\n\r\ntoo busy\n", TargetOptions{},
			[]string{"refused HTTP 503 Service Unavailable: too busy"}},
		{"the statuses given", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", TargetOptions{OK: func(s int) bool { return s == 404 }},
			[]string{"ok 404 Not Found, 0 bytes", "refused HTTP 200 OK"}},
		{"bare line feeds", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", TargetOptions{Keep: true}, []string{"ok ok"}},
		{"a status without a reason", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", TargetOptions{}, []string{"ok 200, 0 bytes"}},
		{"cut short", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", TargetOptions{}, []string{"cut short"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readAnswers(NewTargetClient(tc.o), tc.stream)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "whole")
			for k := range len(tc.stream) + 1 {
				got, err := readAnswers(NewTargetClient(tc.o), tc.stream[:k], tc.stream[k:])
				require.NoError(t, err)
				require.Equal(t, tc.want, got, "split at %d", k)
			}
		})
	}
}

func TestTheTargetClientRefusesWhatIsNotHTTP(t *testing.T) {
	for _, stream := range []string{
		"SSH-2.0-OpenSSH_9.2\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxyz\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
		"HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Long: 1234567890\r\n", MaxTargetHead/20+1),
	} {
		_, err := readAnswers(NewTargetClient(TargetOptions{}), stream)
		assert.True(t, errors.Is(err, ErrMalformed), "%.60q: %v", stream, err)
	}
}

func TestABodyOfAnySizeIsCountedNotKept(t *testing.T) {
	const size = 10 << 20
	c := NewTargetClient(TargetOptions{})
	chunks := []string{fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", size)}
	piece := strings.Repeat("x", 64<<10)
	for range size / len(piece) {
		chunks = append(chunks, piece)
	}
	got, err := readAnswers(c, chunks...)
	require.NoError(t, err)
	assert.Equal(t, []string{"ok 200 OK, 10485760 bytes"}, got)
	assert.LessOrEqual(t, cap(c.body), 4*refusalBody, "no more of the body kept than an error answer quotes")

	kept := NewTargetClient(TargetOptions{Keep: true})
	_, err = readAnswers(kept, chunks...)
	require.NoError(t, err)
	assert.Len(t, kept.body, MaxKeptBody, "with Keep, the first MiB")
}

// FuzzTargetClient checks that the target client never panics, decodes a
// stream the same however it is split, and keeps no more than it may.
func FuzzTargetClient(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 500 No\r\n\r\nbody",
		"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\nContent-Length: 0\n\n",
	} {
		f.Add([]byte(seed), uint(len(seed)/2), false)
	}
	f.Fuzz(func(t *testing.T, input []byte, split uint, keep bool) {
		o := TargetOptions{Keep: keep}
		whole, wholeErr := readAnswers(NewTargetClient(o), string(input))
		cuts := []int{int(split % uint(len(input)+1))}
		if len(input) <= 64 {
			cuts = cuts[:0]
			for k := range len(input) + 1 {
				cuts = append(cuts, k)
			}
		}
		for _, k := range cuts {
			c := NewTargetClient(o)
			got, err := readAnswers(c, string(input[:k]), string(input[k:]))
			if (err == nil) != (wholeErr == nil) || fmt.Sprint(got) != fmt.Sprint(whole) {
				t.Fatalf("%q split at %d decodes as %q (%v), whole as %q (%v)", input, k, got, err, whole, wholeErr)
			}
			if len(c.body) > MaxKeptBody {
				t.Fatalf("kept %d bytes", len(c.body))
			}
		}
	})
}
