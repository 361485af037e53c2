package strategy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// maxSize bounds the sizes in text forms, so that a typo such as
// "pool:80000000" is an error rather than a server that tries to start
// eighty million workers.
const maxSize = 1 << 16

// Parse returns the strategy that text names. text is the form that String
// returns: a scheduler, optionally followed by "+" and an executor.
//
// Schedulers: "serial", "perconn", "pool:N", "loop", those registered with
// [RegisterScheduler]; and "procpool:N", which is "perconn+procs:N".
// Executors: "inline" (the default), "goroutines:N", "procs:N", and those
// registered with [RegisterExecutor].
//
// So "loop+goroutines:4" is LoopWithOffload(Goroutines(4)), "loop+procs:2" is
// LoopWithOffload(Processes(2)), and "pool:8+goroutines:2" serves 8
// connections at once and runs their tasks on 2 worker goroutines. Sizes are
// whole numbers from 1 to 65536; the number of processes may be left out
// ("procpool", "loop+procs") to mean one per CPU. Case and
// surrounding spaces do not matter. The error names what was wrong and what
// is accepted.
func Parse(text string) (Strategy, error) {
	form := strings.ToLower(strings.TrimSpace(text))
	if form == "" {
		return nil, fmt.Errorf("strategy: empty strategy name (want %s)", schedulerForms())
	}
	schedText, execText, offloaded := strings.Cut(form, "+")
	if name, arg, hasArg := strings.Cut(schedText, ":"); name == "procpool" {
		if offloaded {
			return nil, fmt.Errorf("strategy: %q: procpool already runs its tasks in processes; use perconn+%s to choose another executor", text, execText)
		}
		n, err := optionalSize(name, arg, hasArg)
		if err != nil {
			return nil, fmt.Errorf("strategy: %q: %w", text, err)
		}
		return ProcessPool(n), nil
	}
	sched, err := schedulers.parse(schedText)
	if err != nil {
		return nil, fmt.Errorf("strategy: %q: %w", text, err)
	}
	e := Inline()
	if offloaded {
		if e, err = executors.parse(execText); err != nil {
			return nil, fmt.Errorf("strategy: %q: %w", text, err)
		}
	}
	return New(sched, e), nil
}

// ParseExecutor returns the executor that text names: "inline",
// "goroutines:N", "procs:N" or a registered one, the forms an Executor's
// String returns.
func ParseExecutor(text string) (Executor, error) {
	e, err := executors.parse(strings.ToLower(strings.TrimSpace(text)))
	if err != nil {
		return nil, fmt.Errorf("strategy: %q: %w", text, err)
	}
	return e, nil
}

// RegisterScheduler makes Parse, and so the command's -strategy and
// -strategies and the servers that loadtest.Compare starts in child
// processes, understand a scheduler by name: "name", or "name:ARG", for
// which make is called with ARG ("" if there is none). form shows users how
// to write it, as in "lifo:N"; its part before ":" is the name. Register in
// an init function, so that child processes have it too. RegisterScheduler
// panics if the name is empty, has "+" in it, or is taken.
func RegisterScheduler(form string, make func(arg string) (Scheduler, error)) {
	schedulers.register(form, make)
}

// RegisterExecutor is RegisterScheduler for executors: "name" or
// "name:ARG" after the "+" of a strategy's text form, as in "perconn+remote:host".
func RegisterExecutor(form string, make func(arg string) (Executor, error)) {
	executors.register(form, make)
}

// A registry maps the names of one axis to the functions that make them.
type registry[T any] struct {
	axis string // "scheduler" or "executor"

	mu    sync.RWMutex
	make  map[string]func(arg string) (T, error)
	forms []string // in the order registered
}

var (
	schedulers = newRegistry[Scheduler]("scheduler")
	executors  = newRegistry[Executor]("executor")
)

func newRegistry[T any](axis string) *registry[T] {
	return &registry[T]{axis: axis, make: map[string]func(string) (T, error){}}
}

func (r *registry[T]) register(form string, make func(arg string) (T, error)) {
	name, _, _ := strings.Cut(strings.ToLower(form), ":")
	if name == "" || strings.ContainsAny(name, "+ ") || make == nil {
		panic(fmt.Sprintf("strategy: Register%s of %q: want a name without spaces or \"+\", and a function", strings.ToUpper(r.axis[:1])+r.axis[1:], form))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.make[name]; dup || name == "procpool" {
		panic(fmt.Sprintf("strategy: %s %q registered twice", r.axis, name))
	}
	r.make[name] = make
	r.forms = append(r.forms, form)
}

func (r *registry[T]) parse(text string) (T, error) {
	name, arg, _ := strings.Cut(text, ":")
	r.mu.RLock()
	make, ok := r.make[name]
	r.mu.RUnlock()
	if !ok {
		var zero T
		want := r.list()
		if r.axis == "scheduler" {
			want = schedulerForms()
		}
		return zero, fmt.Errorf("unknown %s %q (want %s)", r.axis, name, want)
	}
	return make(arg)
}

// list names the registered forms, for errors.
func (r *registry[T]) list() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return orList(r.forms)
}

// schedulerForms says what a strategy's text form may be.
func schedulerForms() string {
	forms := append(schedulers.formsCopy(), "procpool:N")
	offloads := slices.DeleteFunc(executors.formsCopy(), func(f string) bool { return f == "inline" })
	return orList(forms) + ", optionally followed by +" + strings.Join(offloads, " or +")
}

func (r *registry[T]) formsCopy() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.forms)
}

// orList joins forms as "a, b or c".
func orList(forms []string) string {
	if len(forms) < 2 {
		return strings.Join(forms, "")
	}
	return strings.Join(forms[:len(forms)-1], ", ") + " or " + forms[len(forms)-1]
}

func init() {
	noArg := func(name string, s Scheduler) func(string) (Scheduler, error) {
		return func(arg string) (Scheduler, error) {
			if arg != "" {
				return nil, fmt.Errorf("%s takes no size, got %q", name, name+":"+arg)
			}
			return s, nil
		}
	}
	RegisterScheduler("serial", noArg("serial", serial{}))
	RegisterScheduler("perconn", noArg("perconn", perConn{}))
	RegisterScheduler("pool:N", func(arg string) (Scheduler, error) {
		n, err := Size("pool", arg)
		return pool{n: n}, err
	})
	RegisterScheduler("loop", noArg("loop", loop{}))
	RegisterExecutor("inline", func(arg string) (Executor, error) {
		if arg != "" {
			return nil, fmt.Errorf("inline takes no size, got %q", "inline:"+arg)
		}
		return Inline(), nil
	})
	RegisterExecutor("goroutines:N", func(arg string) (Executor, error) {
		n, err := Size("goroutines", arg)
		if err != nil {
			return nil, err
		}
		return Goroutines(n), nil
	})
	RegisterExecutor("procs:N", func(arg string) (Executor, error) {
		n, err := optionalSize("procs", arg, arg != "")
		if err != nil {
			return nil, err
		}
		return Processes(n), nil
	})
}

// Size reads the size argument of a text form such as "pool:8", for the
// functions given to RegisterScheduler and RegisterExecutor: a whole number
// from 1 to 65536. name is the form's name, for the error.
func Size(name, arg string) (int, error) {
	if arg == "" {
		return 0, fmt.Errorf("%s needs a size, as in %s:4", name, name)
	}
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 || n > maxSize {
		return 0, fmt.Errorf("%s size %q is not a whole number from 1 to %d", name, arg, maxSize)
	}
	return n, nil
}

// optionalSize is Size where no size means 0: one per CPU.
func optionalSize(name, arg string, hasArg bool) (int, error) {
	if !hasArg {
		return 0, nil
	}
	return Size(name, arg)
}
