package wire

import (
	"bytes"
	"slices"
	"testing"
)

func codecSeeds(f *testing.F) {
	for _, seed := range []string{
		"10\n", "10\r\n20\n", "", "\n\n", "abc", "\x00\xff\n", "123456789012345678901234567890\n", "\r\r\n",
		"GET /prime/10 HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /?n=10 HTTP/1.0\r\n\r\n",
		"POST /prime/10 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
		"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"GET /prime/1 HTTP/1.1\r\n\r\nGET /prime/2 HTTP/1.1\r\n\r\n",
		"000 /0000000 HTTP/1.1\r\n\r\n000 /0 HTTP/1.1\r\n\r\n0",
	} {
		f.Add([]byte(seed), uint(len(seed)/2))
	}
}

// checkSplits checks that input decodes the same whole as split in two at
// split, and at every byte for short inputs: a decoder must not depend on
// how the network cuts the stream.
func checkSplits(t *testing.T, newCodec func() ServerCodec, input []byte, split uint) []string {
	whole := feed(newCodec(), string(input))
	cuts := []int{int(split % uint(len(input)+1))}
	if len(input) <= 64 {
		cuts = cuts[:0]
		for k := range len(input) + 1 {
			cuts = append(cuts, k)
		}
	}
	for _, k := range cuts {
		if got := feed(newCodec(), string(input[:k]), string(input[k:])); !slices.Equal(got, whole) {
			t.Fatalf("%q split at %d decodes as %q, whole as %q", input, k, got, whole)
		}
	}
	return whole
}

// FuzzLineCodec checks that the line codec never panics, never returns a
// payload over the limit or holding a line break, and decodes a stream the
// same however it is split.
func FuzzLineCodec(f *testing.F) {
	codecSeeds(f)
	f.Fuzz(func(t *testing.T, input []byte, split uint) {
		const max = 16
		for _, got := range checkSplits(t, func() ServerCodec { return NewLineCodec(max) }, input, split) {
			if payload, ok := bytes.CutPrefix([]byte(got), []byte("req ")); ok {
				if len(payload) > max || bytes.IndexByte(payload, '\n') >= 0 {
					t.Fatalf("payload %q: over the limit or holding a newline", payload)
				}
			}
		}
	})
}

// FuzzHTTPCodec checks that the http codec never panics, decodes a stream
// the same however it is split, and finds a request only where net/http
// parsed a GET.
func FuzzHTTPCodec(f *testing.F) {
	codecSeeds(f)
	f.Fuzz(func(t *testing.T, input []byte, split uint) {
		got := checkSplits(t, func() ServerCodec { return NewHTTPCodec(512) }, input, split)
		requests := 0
		for _, d := range got {
			if bytes.HasPrefix([]byte(d), []byte("req ")) {
				requests++
			}
		}
		if requests > bytes.Count(input, []byte("GET ")) {
			t.Fatalf("%d requests from %q, which holds fewer GETs", requests, input)
		}
	})
}
