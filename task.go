package primetime

import (
	"context"
	"sort"
	"sync"
)

// A Task is CPU-bound work that a server runs for each request: the prime
// task, or one of the user's own. Any strategy can run any Task.
//
// Run receives the request's payload (for the line protocol, the request
// line without its line ending) and returns the answer's payload. The line
// and recv protocols answer with one line: an answer that holds a line
// break is sent as an error answer that says so. An error is sent to the
// client as an error answer; wrap [ErrBadRequest] for input the task
// refuses. Run must be safe to call from many goroutines at once,
// must not keep payload after it returns, and should call [Checkpoint] every
// so often so that it stops soon after ctx is done.
//
// Name identifies the task across processes: a worker process finds the task
// to run by the name it was registered under with [Register].
type Task interface {
	Name() string
	Run(ctx context.Context, payload []byte) ([]byte, error)
}

// TaskFunc returns a Task with the given name that runs fn.
func TaskFunc(name string, fn func(ctx context.Context, payload []byte) ([]byte, error)) Task {
	return funcTask{name: name, fn: fn}
}

type funcTask struct {
	name string
	fn   func(ctx context.Context, payload []byte) ([]byte, error)
}

func (t funcTask) Name() string { return t.name }

func (t funcTask) Run(ctx context.Context, payload []byte) ([]byte, error) {
	return t.fn(ctx, payload)
}

var registry = struct {
	sync.RWMutex
	tasks map[string]Task
}{tasks: make(map[string]Task)}

// Register makes t reachable by its name with [Lookup], in this process and
// in worker processes started from it. Call it from an init function, or
// before anything starts workers, so that every process of the program
// registers the same tasks. Register panics if t is nil, its name is empty,
// or a task is already registered under that name.
func Register(t Task) {
	if t == nil {
		panic("primetime: Register of a nil Task")
	}
	name := t.Name()
	if name == "" {
		panic("primetime: Register of a Task with an empty name")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.tasks[name]; dup {
		panic("primetime: Register called twice for task " + name)
	}
	registry.tasks[name] = t
}

// Lookup returns the task registered under name, and whether there is one.
func Lookup(name string) (Task, bool) {
	registry.RLock()
	defer registry.RUnlock()
	t, ok := registry.tasks[name]
	return t, ok
}

// Registered returns the names of the registered tasks in sorted order.
func Registered() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.tasks))
	for name := range registry.tasks {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
