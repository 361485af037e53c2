package strategy

import (
	"fmt"
	"strconv"
	"strings"
)

// maxSize bounds the sizes in text forms, so that a typo such as
// "pool:80000000" is an error rather than a server that tries to start
// eighty million workers.
const maxSize = 1 << 16

// Parse returns the strategy that text names. text is the form that String
// returns: a scheduler, optionally followed by "+" and an executor.
//
// Schedulers: "serial", "perconn", "pool:N", "loop"; and "procpool:N", which
// is "perconn+procs:N".
// Executors: "inline" (the default), "goroutines:N", "procs:N".
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
		return nil, fmt.Errorf("strategy: empty strategy name (want %s)", schedulerForms)
	}
	schedText, execText, offloaded := strings.Cut(form, "+")
	s, err := parseScheduler(schedText)
	if err != nil {
		return nil, fmt.Errorf("strategy: %q: %w", text, err)
	}
	if !offloaded {
		return s, nil
	}
	if strings.HasPrefix(schedText, "procpool") {
		return nil, fmt.Errorf("strategy: %q: procpool already runs its tasks in processes; use perconn+%s to choose another executor", text, execText)
	}
	e, err := parseExecutor(execText)
	if err != nil {
		return nil, fmt.Errorf("strategy: %q: %w", text, err)
	}
	return Offload(s, e), nil
}

const (
	schedulerForms = "serial, perconn, pool:N, loop or procpool:N, optionally followed by +goroutines:N or +procs:N"
	executorForms  = "inline, goroutines:N or procs:N"
)

func parseScheduler(text string) (Strategy, error) {
	name, arg, hasArg := strings.Cut(text, ":")
	switch name {
	case "serial", "perconn", "loop":
		if hasArg {
			return nil, fmt.Errorf("%s takes no size, got %q", name, text)
		}
		switch name {
		case "serial":
			return Serial(), nil
		case "perconn":
			return PerConn(), nil
		default:
			return Loop(), nil
		}
	case "pool":
		n, err := parseSize(name, arg, hasArg)
		if err != nil {
			return nil, err
		}
		return Pool(n), nil
	case "procpool":
		n, err := parseOptionalSize(name, arg, hasArg)
		if err != nil {
			return nil, err
		}
		return ProcessPool(n), nil
	}
	return nil, fmt.Errorf("unknown scheduler %q (want %s)", name, schedulerForms)
}

// ParseExecutor returns the executor that text names: "inline",
// "goroutines:N" or "procs:N", the forms an Executor's String returns.
func ParseExecutor(text string) (Executor, error) {
	e, err := parseExecutor(strings.ToLower(strings.TrimSpace(text)))
	if err != nil {
		return nil, fmt.Errorf("strategy: %q: %w", text, err)
	}
	return e, nil
}

func parseExecutor(form string) (Executor, error) {
	name, arg, hasArg := strings.Cut(form, ":")
	switch name {
	case "inline":
		if hasArg {
			return nil, fmt.Errorf("inline takes no size, got %q", form)
		}
		return Inline(), nil
	case "goroutines":
		n, err := parseSize(name, arg, hasArg)
		if err != nil {
			return nil, err
		}
		return Goroutines(n), nil
	case "procs":
		n, err := parseOptionalSize(name, arg, hasArg)
		if err != nil {
			return nil, err
		}
		return Processes(n), nil
	}
	return nil, fmt.Errorf("unknown executor %q (want %s)", name, executorForms)
}

func parseSize(name, arg string, hasArg bool) (int, error) {
	if !hasArg || arg == "" {
		return 0, fmt.Errorf("%s needs a size, as in %s:4", name, name)
	}
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 || n > maxSize {
		return 0, fmt.Errorf("%s size %q is not a whole number from 1 to %d", name, arg, maxSize)
	}
	return n, nil
}

// parseOptionalSize is parseSize where no size means 0: one per CPU.
func parseOptionalSize(name, arg string, hasArg bool) (int, error) {
	if !hasArg {
		return 0, nil
	}
	return parseSize(name, arg, hasArg)
}
