package wire

import "testing"

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
