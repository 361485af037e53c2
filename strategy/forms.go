package strategy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/primetime-lab/primetime/internal/cpus"
)

// The text forms of strategies are produced and read here, and only here:
// each built-in part's String calls partForm, a strategy's String calls
// strategyForm, Parse reads what they write, and Describe says what a
// strategy is made of without anyone matching text.

// The names of the built-in parts, in text forms and in a [Description].
const (
	serialName     = "serial"
	perConnName    = "perconn"
	poolName       = "pool"
	loopName       = "loop"
	loopsName      = "loops"
	inlineName     = "inline"
	goroutinesName = "goroutines"
	procsName      = "procs"
	// procPoolName is the form of PerConn with processes:
	// "procpool:2" is "perconn+procs:2".
	procPoolName = "procpool"
)

// maxSize bounds the sizes in text forms, so that a typo such as
// "pool:80000000" is an error rather than a server that tries to start
// eighty million workers.
const maxSize = 1 << 16

// A Description says what a [Strategy] is made of, for programs that treat
// strategies by their parts: the CPython rows of an experiment find the
// lecture's counterpart of a strategy by it, and a load generator that a
// Serial server would keep waiting reconnects for every request. Read it
// rather than the text form.
type Description struct {
	// Scheduler and Executor are the strategy's two parts.
	Scheduler, Executor Part
	// Loop says that the scheduler is a [LoopScheduler]: event loops handle
	// the requests, rather than a goroutine per connection.
	Loop bool
}

// A Part is a scheduler or an executor, as a [Description] has it.
type Part struct {
	// Name is the part's name in text forms: one of the names above for a
	// built-in part, the name it was registered under for one from
	// elsewhere.
	Name string
	// Size is the part's size: a pool's places, how many loops, an
	// executor's workers. It is 0 for a part that has none, and for procs,
	// nats and loops without a size, which mean one per CPU.
	Size int
	// MaxConns is, for a scheduler, the most connections it serves at
	// once; 0 for no bound, or none known.
	MaxConns int
}

// described is a part of this package, which knows what it is.
type described interface{ describe() Part }

// Describe returns what s is made of. A part from elsewhere is described
// by its text form: its name, and a size if what follows the name's ":" is
// a whole number. A Strategy not made by this package, or by [New], has
// only its text form: its Scheduler part has that as its Name.
func Describe(s Strategy) Description {
	st, ok := s.(strategy)
	if !ok {
		return Description{Scheduler: Part{Name: s.String()}}
	}
	_, loop := st.sched.(LoopScheduler)
	return Description{Scheduler: describe(st.sched), Executor: describe(st.exec), Loop: loop}
}

func describe(part interface{ String() string }) Part {
	if d, ok := part.(described); ok {
		return d.describe()
	}
	name, arg, _ := strings.Cut(part.String(), ":")
	size, err := strconv.Atoi(arg)
	if err != nil || size < 0 {
		size = 0
	}
	return Part{Name: name, Size: size}
}

// partForm is the text form of a built-in part: its name, and ":N" for a
// size.
func partForm(name string, size int) string {
	if size == 0 {
		return name
	}
	return name + ":" + strconv.Itoa(size)
}

// strategyForm is the text form of a strategy of sched and exec, given as
// their text forms: the scheduler's, and "+" and the executor's unless it
// is inline. PerConn with processes is "procpool:N".
func strategyForm(sched, exec string) string {
	switch {
	case exec == inlineName:
		return sched
	case sched == perConnName && (exec == procsName || strings.HasPrefix(exec, procsName+":")):
		return procPoolName + strings.TrimPrefix(exec, procsName)
	}
	return sched + "+" + exec
}

// Parse returns the strategy that text names. text is the form that String
// returns: a scheduler, optionally followed by "+" and an executor.
//
// Schedulers: "serial", "perconn", "pool:N", "loop", "loops:N", and
// "procpool:N", which is "perconn+procs:N". Executors: "inline" (the
// default), "goroutines:N", "procs:N". Importing package natsexec adds the
// executor "nats:N", and [RegisterScheduler] and [RegisterExecutor] add
// others; the error of a form Parse does not know lists those it does.
//
// So "loop+goroutines:4" is LoopWithOffload(Goroutines(4)), "loop+procs:2"
// is LoopWithOffload(Processes(2)), and "pool:8+goroutines:2" serves 8
// connections at once and runs their tasks on 2 worker goroutines. Sizes
// are whole numbers from 1 to 65536; the number of processes and of loops
// may be left out ("procpool", "loop+procs", "loops") to mean one per CPU.
// Case and surrounding spaces do not matter. The error names text and
// what was wrong with it; errors.Unwrap of it says what was wrong alone,
// for a program that names the text itself.
func Parse(text string) (Strategy, error) {
	s, err := parse(strings.ToLower(strings.TrimSpace(text)))
	if err != nil {
		return nil, fmt.Errorf("strategy: %q: %w", text, err)
	}
	return s, nil
}

// parse is Parse of a form in lower case and without spaces around it; its
// errors do not repeat the form.
func parse(form string) (Strategy, error) {
	if form == "" {
		return nil, fmt.Errorf("empty strategy name (want %s)", schedulerForms())
	}
	schedText, execText, offloaded := strings.Cut(form, "+")
	if name, arg, hasArg := strings.Cut(schedText, ":"); name == procPoolName {
		if offloaded {
			return nil, fmt.Errorf("%s already runs its tasks in processes; use %s+%s to choose another executor", procPoolName, perConnName, execText)
		}
		if _, err := optionalSize(procPoolName, arg, hasArg); err != nil {
			return nil, err
		}
		// "procpool:N" is "perconn+procs:N".
		schedText, execText, offloaded = perConnName, procsName+strings.TrimPrefix(schedText, procPoolName), true
	}
	sched, err := schedulers.parse(schedText)
	if err != nil {
		return nil, err
	}
	e := Inline()
	if offloaded {
		if e, err = executors.parse(execText); err != nil {
			return nil, err
		}
	}
	if !isScheduler(sched) {
		return nil, fmt.Errorf("%T is neither a ConnScheduler nor a LoopScheduler", sched)
	}
	return New(sched, e), nil
}

// RegisterScheduler makes Parse, and so the command's -strategy and
// -strategies and the servers that an experiment starts in child
// processes, understand a scheduler by name: "name", or "name:ARG", for
// which make is called with ARG ("" if there is none). form shows users how
// to write it, as in "lifo:N"; its part before ":" is the name. The
// scheduler make returns must be a [ConnScheduler] or a [LoopScheduler].
// Register in an init function, so that child processes have it too.
// RegisterScheduler panics if the name is empty, has "+" in it, or is
// taken.
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
	if _, dup := r.make[name]; dup || name == procPoolName {
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

// Forms returns the text forms [Parse] reads, in the order they were
// registered: the schedulers' ("pool:N"), "procpool:N" among them, and the
// executors' that may follow a "+" ("goroutines:N"), "inline" among them.
func Forms() (scheds, execs []string) {
	return append(schedulers.formsCopy(), procPoolName+":N"), executors.formsCopy()
}

// schedulerForms says what a strategy's text form may be.
func schedulerForms() string {
	forms, offloads := Forms()
	offloads = slices.DeleteFunc(offloads, func(f string) bool { return f == inlineName })
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
	RegisterScheduler(serialName, noArg(serialName, serial{}))
	RegisterScheduler(perConnName, noArg(perConnName, perConn{}))
	RegisterScheduler(poolName+":N", func(arg string) (Scheduler, error) {
		n, err := size(poolName, arg)
		return pool{n: n}, err
	})
	RegisterScheduler(loopName, noArg(loopName, loops{}))
	RegisterScheduler(loopsName+":N", func(arg string) (Scheduler, error) {
		n, err := optionalSize(loopsName, arg, arg != "")
		return loops{n: n, many: true}, err
	})
	RegisterExecutor(inlineName, func(arg string) (Executor, error) {
		if arg != "" {
			return nil, fmt.Errorf("%s takes no size, got %q", inlineName, inlineName+":"+arg)
		}
		return Inline(), nil
	})
	RegisterExecutor(goroutinesName+":N", func(arg string) (Executor, error) {
		n, err := size(goroutinesName, arg)
		if err != nil {
			return nil, err
		}
		return Goroutines(n), nil
	})
	RegisterExecutor(procsName+":N", func(arg string) (Executor, error) {
		n, err := optionalSize(procsName, arg, arg != "")
		if err != nil {
			return nil, err
		}
		return Processes(n), nil
	})
}

// size reads the size argument of a text form such as "pool:8": a whole
// number from 1 to maxSize. name is the form's name, for the error.
func size(name, arg string) (int, error) {
	if arg == "" {
		return 0, fmt.Errorf("%s needs a size, as in %s:4", name, name)
	}
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 || n > maxSize {
		return 0, fmt.Errorf("%s size %q is not a whole number from 1 to %d", name, arg, maxSize)
	}
	return n, nil
}

// perCPU returns n, or one per CPU for a size left out (0).
func perCPU(n int) int { return cpus.Or(n) }

// optionalSize is Size where no size means 0: one per CPU.
func optionalSize(name, arg string, hasArg bool) (int, error) {
	if !hasArg {
		return 0, nil
	}
	return size(name, arg)
}
