package primetime_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/primetime-lab/primetime"
)

// requestContext is shaped like a request's context in the server: the
// server's, the connection's and the request's cancellable contexts.
func requestContext(b *testing.B) context.Context {
	ctx, cancel1 := context.WithCancel(context.Background())
	ctx, cancel2 := context.WithCancel(ctx)
	ctx, cancel3 := context.WithCancel(ctx)
	b.Cleanup(func() { cancel3(); cancel2(); cancel1() })
	return ctx
}

// BenchmarkCheckpoint measures a checkpoint outside Python mode, beside the
// bare context check it adds to: the price every task pays for Python
// mode's existence. NthPrime calls one every 4,096 divisions.
func BenchmarkCheckpoint(b *testing.B) {
	ctx := requestContext(b)
	b.Run("ctx.Err", func(b *testing.B) {
		for b.Loop() {
			if ctx.Err() != nil {
				b.Fatal("cancelled")
			}
		}
	})
	b.Run("Checkpoint", func(b *testing.B) {
		for b.Loop() {
			if primetime.Checkpoint(ctx) != nil {
				b.Fatal("cancelled")
			}
		}
	})
}

// BenchmarkNthPrime measures the algorithm itself.
func BenchmarkNthPrime(b *testing.B) {
	ctx := requestContext(b)
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := primetime.NthPrime(ctx, n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
