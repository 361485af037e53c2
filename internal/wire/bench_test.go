package wire

import (
	"fmt"
	"testing"
)

// BenchmarkHTTPDecode decodes a keep-alive GET whose head arrives whole,
// as the load generator sends it.
func BenchmarkHTTPDecode(b *testing.B) {
	in := NewHTTPClient().AppendRequest(nil, "10")
	c := NewHTTPCodec(8 << 10)
	b.ReportAllocs()
	for b.Loop() {
		if n, d := c.Decode(in, false); n != len(in) || d.Kind != Request {
			b.Fatalf("decoded %d bytes of %d: %+v", n, len(in), d)
		}
	}
}

// BenchmarkTargetClient decodes net/http's answer to a small request: the
// target client's cost per answer, which must allocate nothing.
func BenchmarkTargetClient(b *testing.B) {
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nDate: Mon, 07 Dec 2026 11:00:00 GMT\r\nContent-Length: 2\r\n\r\nok")
	chunked := []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
	for _, in := range [][]byte{answer, chunked} {
		c := NewTargetClient(TargetOptions{})
		b.Run(fmt.Sprintf("%d bytes", len(in)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if n, _, err := c.DecodeAnswer(in); n != len(in) || err != nil {
					b.Fatal(n, err)
				}
			}
		})
	}
}
