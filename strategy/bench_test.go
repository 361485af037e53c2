package strategy

import (
	"context"
	"testing"

	"github.com/primetime-lab/primetime"
)

// BenchmarkRoundTrip measures one small task (the first prime) through each
// executor, one at a time: the cost an executor adds to every request.
// (natsexec's BenchmarkRoundTrip measures the NATS executor's.)
func BenchmarkRoundTrip(b *testing.B) {
	for _, e := range []Executor{Inline(), Goroutines(1), Processes(1)} {
		b.Run(e.String(), func(b *testing.B) {
			run, err := startRunner(e)
			if err != nil {
				b.Fatal(err)
			}
			defer run.Stop()
			ctx := context.Background()
			payload := []byte("1")
			b.ReportAllocs()
			for b.Loop() {
				answer, err := run.run(ctx, primetime.Prime, payload)
				if err != nil || string(answer) != "2" {
					b.Fatalf("got %q, %v", answer, err)
				}
			}
		})
	}
}
