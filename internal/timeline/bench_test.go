package timeline

import "testing"

// BenchmarkSpan is the cost of one recorded span, with the recorder on,
// from one lane and from lanes recording at once.
func BenchmarkSpan(b *testing.B) {
	r := New(Options{})
	payload := []byte("1")
	b.Run("one lane", func(b *testing.B) {
		l := r.Lane("conn", "connection")
		for b.Loop() {
			l.Span(Request, l.Now(), payload)
		}
	})
	b.Run("parallel lanes", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			l := r.Lane("conn", "connection")
			for pb.Next() {
				l.Span(Request, l.Now(), payload)
			}
		})
	})
	b.Run("off", func(b *testing.B) {
		var l *Lane
		for b.Loop() {
			l.Span(Request, l.Now(), payload)
		}
	})
}

// BenchmarkNow is the cost of the recorder's clock.
func BenchmarkNow(b *testing.B) {
	r := New(Options{})
	for b.Loop() {
		r.Now()
	}
}
