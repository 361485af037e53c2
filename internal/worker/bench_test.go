package worker

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkPipelining measures small tasks through one worker process with
// depth requests in flight: depth 1 is the pool's one task at a time, ping
// and pong; a greater depth writes that many requests before reading their
// answers, as a worker with a queue of its own would see them. ns/req says
// what a deeper queue would save per request.
func BenchmarkPipelining(b *testing.B) {
	for _, depth := range []int{1, 4} {
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			p, err := Start(Options{StartTimeout: 5 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(time.Second)
			body, err := runBody("echo", []byte("1"))
			if err != nil {
				b.Fatal(err)
			}
			id := uint64(0)
			for b.Loop() {
				first := id + 1
				for range depth {
					id++
					if err := writeFrame(p.stdin, kindRun, id, body...); err != nil {
						b.Fatal(err)
					}
				}
				for range depth {
					// The worker runs what it reads as it comes, and
					// may answer out of order.
					f, err := readFrame(p.br)
					if err != nil {
						b.Fatal(err)
					}
					if f.kind != kindAnswer || f.ID < first || f.ID > id {
						b.Fatalf("got a %q frame for request %d, want an answer to %d-%d", f.kind, f.ID, first, id)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*depth), "ns/req")
		})
	}
}
