package proctest

import (
	"context"
	"testing"
	"time"
)

// Context returns a context that ends at the test's deadline (go test
// -timeout), for a test whose child processes must start: they get the
// test's own time to do so, however busy the machine, rather than a
// fixed bound of their own.
func Context(t testing.TB) context.Context {
	ctx := context.Background()
	if d, ok := t.(interface {
		Deadline() (deadline time.Time, ok bool)
	}); ok {
		if deadline, ok := d.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, deadline)
			t.Cleanup(cancel)
		}
	}
	return ctx
}
