package strategy

import (
	"context"

	"github.com/primetime-lab/primetime"
)

// Inline returns the executor that runs each task on the goroutine that
// handles its request: a connection's goroutine, or an event loop, whose
// Submit runs the task and answers before it returns.
func Inline() Executor { return inline{} }

type inline struct{}

func (inline) String() string            { return partForm(inlineName, 0) }
func (inline) describe() Part            { return Part{Name: inlineName} }
func (inline) Start(Env) (Runner, error) { return inline{}, nil }
func (inline) Stop()                     {}
func (inline) run(ctx context.Context, t primetime.Task, payload []byte) ([]byte, error) {
	return runTask(ctx, t, payload)
}
func (inline) Submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	done(runTask(ctx, t, payload))
}
