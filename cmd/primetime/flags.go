package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/strategy"
)

// A command is a subcommand's flags and its way of speaking: an error is
// one line that names the flag, said before anything else is printed, and
// -h prints the usage on stdout and exits 0.
type command struct {
	*flag.FlagSet
	synopsis       string // the usage line, after "usage: "
	stdout, stderr io.Writer
	// fields names the flags of the library's fields, for FieldErrors.
	fields map[string]string
	// args are the arguments that are not flags, wherever they stood.
	args []string
}

// Args returns the arguments that are not flags: parse takes flags before,
// between and after them, as most commands people know do ("merge a.json
// b.json -json m.json"); after "--", every argument is one.
func (c *command) Args() []string { return c.args }

// NArg returns how many arguments are not flags.
func (c *command) NArg() int { return len(c.args) }

// Arg returns the ith argument that is not a flag, or "".
func (c *command) Arg(i int) string {
	if i < 0 || i >= len(c.args) {
		return ""
	}
	return c.args[i]
}

func newCommand(name, synopsis string, stdout, stderr io.Writer) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the command says what went wrong itself
	fs.Usage = func() {}
	return &command{FlagSet: fs, synopsis: synopsis, stdout: stdout, stderr: stderr, fields: map[string]string{}}
}

// parse parses args, of which the command takes nargs (-1: any number),
// and reports whether to go on; if not, code is the exit code, and parse
// has said why or printed the help.
func (c *command) parse(args []string, nargs int) (code int, ok bool) {
	var bad error // what a flag's value said of itself
	c.VisitAll(func(f *flag.Flag) { f.Value = &saying{Value: f.Value, name: f.Name, bad: &bad} })
	err := c.Parse(args)
	for err == nil && c.FlagSet.NArg() > 0 {
		rest := c.FlagSet.Args()
		if i := len(args) - len(rest) - 1; i >= 0 && args[i] == "--" {
			c.args = append(c.args, rest...)
			break
		}
		c.args = append(c.args, rest[0])
		args = rest[1:]
		err = c.Parse(args)
	}
	c.VisitAll(func(f *flag.Flag) { f.Value = f.Value.(*saying).Value })
	if errors.Is(err, flag.ErrHelp) {
		c.help()
		return 0, false
	}
	if bad != nil {
		return c.usageError(bad.Error()), false
	}
	if err != nil {
		return c.usageError(err.Error()), false
	}
	switch {
	case nargs == 0 && c.NArg() > 0:
		return c.usageError(fmt.Sprintf("unexpected argument %q", c.Arg(0))), false
	case nargs > 0 && c.NArg() != nargs: // a negative nargs takes any number
		return c.usageError(fmt.Sprintf("takes %d arguments, got %d", nargs, c.NArg())), false
	}
	return 0, !checkOnly
}

// checkOnly, set by the tests of the documents' commands, has a command stop
// once its command line has been read, with 0 if it was right.
var checkOnly bool

// saying is a flag's value while the command line is parsed: a value it
// refuses keeps its own words, with the flag's name, rather than the flag
// package's "invalid value" sentence around them.
type saying struct {
	flag.Value
	name string
	bad  *error
}

func (v *saying) Set(s string) error {
	err := v.Value.Set(s)
	if err != nil && *v.bad == nil {
		if v.IsBoolFlag() {
			err = fmt.Errorf("%q is not true or false", s)
		}
		*v.bad = fmt.Errorf("-%s: %w", v.name, err)
	}
	return err
}

// IsBoolFlag tells the flag package that the value is a bool, which takes
// no argument, as it asks of the values it wraps.
func (v *saying) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// help prints the usage and the flags on stdout, as flag.PrintDefaults
// does, with the type names of this file's values.
func (c *command) help() {
	fmt.Fprintf(c.stdout, "usage: %s\n", c.synopsis)
	c.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if t, ok := f.Value.(interface{ typeName() string }); ok && name == "value" {
			name = t.typeName()
		}
		line := "  -" + f.Name
		if name != "" {
			line += " " + name
		}
		if len(line) <= 4 {
			line += "\t"
		} else {
			line += "\n    \t"
		}
		line += strings.ReplaceAll(usage, "\n", "\n    \t")
		switch def := f.DefValue; {
		case def == "" || def == "0" || def == "0s" || def == "false":
		case isString(f.Value):
			line += fmt.Sprintf(" (default %q)", def)
		default:
			line += fmt.Sprintf(" (default %s)", def)
		}
		fmt.Fprintln(c.stdout, line)
	})
}

// isString reports whether v is a string flag's value.
func isString(v flag.Value) bool {
	g, ok := v.(flag.Getter)
	if !ok {
		return false
	}
	_, ok = g.Get().(string)
	return ok
}

// usageError says what is wrong with the command line, and where to look,
// and returns the exit code of a bad command line.
func (c *command) usageError(msg string) int {
	fmt.Fprintf(c.stderr, "primetime %s: %s (primetime %s -h lists the flags)\n", c.Name(), msg, c.Name())
	return 2
}

// fail says what went wrong and returns code.
func (c *command) fail(err error, code int) int {
	fmt.Fprintf(c.stderr, "primetime %s: %s\n", c.Name(), c.message(err))
	return code
}

// message returns err's text, or for a *loadtest.FieldError, its message
// with the flags that set the library's fields named.
func (c *command) message(err error) string {
	var fe *loadtest.FieldError
	if errors.As(err, &fe) {
		return fe.Message(func(field string) string {
			if name, ok := c.fields[field]; ok {
				return name
			}
			return field
		})
	}
	return err.Error()
}

// field records that flag name sets the library's field.
func (c *command) field(field, name string) { c.fields[field] = "-" + name }

// A within is the range of values a numeric flag takes.
type within int

const (
	anyValue    within = iota // negative values mean something
	nonNegative               // 0 and up
	positive                  // 1 and up
)

func (b within) check(neg, zero bool) error {
	switch {
	case b >= nonNegative && neg:
		return errors.New("must not be negative")
	case b == positive && zero:
		return errors.New("must be positive")
	}
	return nil
}

// durationValue is a time.Duration flag that says what a duration is.
type durationValue struct {
	d *time.Duration
	b within
}

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

func (durationValue) typeName() string { return "duration" }

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 5ms, 2s or 1m", s)
	}
	if err := v.b.check(d < 0, d == 0); err != nil {
		return fmt.Errorf("%s %w", s, err)
	}
	*v.d = d
	return nil
}

// duration defines a duration flag whose values are within b.
func (c *command) duration(name string, def time.Duration, b within, usage string) *time.Duration {
	d := def
	c.Var(durationValue{&d, b}, name, usage)
	return &d
}

// intValue is an int flag that says what a number is.
type intValue struct {
	n *int
	b within
}

func (v intValue) String() string {
	if v.n == nil {
		return ""
	}
	return strconv.Itoa(*v.n)
}

func (intValue) typeName() string { return "int" }

func (v intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	if err := v.b.check(n < 0, n == 0); err != nil {
		return fmt.Errorf("%s %w", s, err)
	}
	*v.n = n
	return nil
}

// int defines an int flag whose values are within b.
func (c *command) int(name string, def int, b within, usage string) *int {
	n := def
	c.Var(intValue{&n, b}, name, usage)
	return &n
}

// floatValue is a float64 flag that says what a number is.
type floatValue struct {
	f *float64
	b within
}

func (v floatValue) String() string {
	if v.f == nil {
		return ""
	}
	return strconv.FormatFloat(*v.f, 'g', -1, 64)
}

func (floatValue) typeName() string { return "float" }

func (v floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", s)
	}
	if err := v.b.check(f < 0, f == 0); err != nil {
		return fmt.Errorf("%s %w", s, err)
	}
	*v.f = f
	return nil
}

// set reports whether the flag name was given on the command line.
func (c *command) set(name string) bool {
	given := false
	c.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// rateValue is -rate: a number of requests per second, or with auto not
// nil "auto", which sets *auto.
type rateValue struct {
	floatValue
	auto *bool
}

func (v rateValue) Set(s string) error {
	if s == "auto" && v.auto != nil {
		*v.auto = true
		return nil
	}
	if s == "auto" {
		return fmt.Errorf(`"auto" is compare's: here give a rate, or 0 for closed loop`)
	}
	return v.floatValue.Set(s)
}

// strategyValue is a strategy flag: its text form, read by strategy.Parse,
// whose error says what is wrong without repeating the text.
type strategyValue struct{ s *strategy.Strategy }

func (v strategyValue) String() string {
	if v.s == nil || *v.s == nil {
		return ""
	}
	return (*v.s).String()
}

func (strategyValue) typeName() string { return "strategy" }

func (v strategyValue) Set(text string) error {
	s, err := strategy.Parse(text)
	if err != nil {
		return fmt.Errorf("%q: %w", text, errors.Unwrap(err))
	}
	*v.s = s
	return nil
}

// strategy defines a strategy flag.
func (c *command) strategy(name string, def strategy.Strategy, usage string) *strategy.Strategy {
	s := def
	c.Var(strategyValue{&s}, name, usage)
	return &s
}

// strategyForms lists the text forms of strategies, for the usage of the
// flags that take one.
func strategyForms() string {
	scheds, execs := strategy.Forms()
	return strings.Join(scheds, ", ") + ", optionally followed by +" + strings.Join(execs, ", +")
}

// taskValue is a -task flag: the name of a registered task.
type taskValue struct{ t *primetime.Task }

func (v taskValue) String() string {
	if v.t == nil || *v.t == nil {
		return ""
	}
	return (*v.t).Name()
}

func (taskValue) typeName() string { return "task" }

func (v taskValue) Set(name string) error {
	t, ok := primetime.Lookup(name)
	if !ok {
		return fmt.Errorf("%q is not a registered task: give one of %s", name, strings.Join(primetime.Registered(), ", "))
	}
	*v.t = t
	return nil
}

// taskFlag defines -task on c: the task the servers run and the requests
// ask for.
func taskFlag(c *command) *primetime.Task {
	t := primetime.Prime
	c.Var(taskValue{&t}, "task", "the `task` the servers run: "+strings.Join(primetime.Registered(), ", ")+" (sha256 releases Python mode's lock, as hashlib does)")
	c.field("Task", "task")
	return &t
}

// checkOf returns the Scenario.Check of task t: the default one for the
// prime task, a check that computes each answer here for another.
func checkOf(t primetime.Task) func(request, answer []byte) error {
	if t.Name() == primetime.Prime.Name() {
		return nil
	}
	return loadtest.TaskAnswers(t)
}
