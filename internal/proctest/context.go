package proctest

import (
	"context"
	"testing"
)

// Context returns a context that ends at the test's deadline (go test
// -timeout), for a test whose child processes must start: they get the
// test's own time to do so, however busy the machine, rather than a
// fixed bound of their own.
func Context(t *testing.T) context.Context {
	deadline, ok := t.Deadline()
	if !ok {
		return context.Background()
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx
}
