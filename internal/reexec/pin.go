package reexec

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// rolePin is the role of the process that pins a command to CPUs and
// becomes it: envPin holds the CPUs and the command.
const (
	rolePin = "pin"
	envPin  = "PRIMETIME_PIN"
)

// pinned is what a pinning process is told: the CPUs, and the command to
// become.
type pinned struct {
	CPUs []int    `json:"cpus"`
	Path string   `json:"path"`
	Args []string `json:"args"`
	Env  []string `json:"env"`
}

func init() { RegisterRole(rolePin, runPin) }

// Pin returns cmd to be run on the given CPUs only, with every thread and
// every process it starts: it runs this program first, which sets its
// CPU affinity (sched_setaffinity) and then executes cmd's program in its
// place, so that the affinity holds from the command's first instruction,
// whatever runtime it has. The returned command keeps cmd's standard
// streams; cmd must not have been started.
func Pin(cmd *exec.Cmd, cpus []int) (*exec.Cmd, error) {
	if len(cpus) == 0 {
		return cmd, nil
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	js, err := json.Marshal(pinned{CPUs: cpus, Path: cmd.Path, Args: cmd.Args, Env: env})
	if err != nil {
		return nil, err
	}
	pin, err := Command("", nil, rolePin, cmd.Stderr, envPin+"="+string(js))
	if err != nil {
		return nil, err
	}
	pin.Stdin, pin.Stdout, pin.Dir = cmd.Stdin, cmd.Stdout, cmd.Dir
	if cmd.SysProcAttr != nil {
		pin.SysProcAttr = cmd.SysProcAttr
	}
	return pin, nil
}

// runPin is the pinning process: it sets its affinity and becomes the
// command.
func runPin() error {
	var p pinned
	if err := json.Unmarshal([]byte(os.Getenv(envPin)), &p); err != nil || p.Path == "" || len(p.Args) == 0 {
		return fmt.Errorf("reexec: a pinning process without its command (%v)", err)
	}
	if err := pinAndExec(p.CPUs, p.Path, p.Args, p.Env); err != nil {
		return fmt.Errorf("reexec: running %s on CPUs %v: %w", p.Path, p.CPUs, err)
	}
	return nil // not reached: the process is the command now
}

// CPUsFor returns the first n of the CPUs this process may run on, or an
// error that says how many there are.
func CPUsFor(n int) ([]int, error) {
	allowed, err := allowedCPUs()
	if err != nil {
		return nil, err
	}
	if n < 1 || n > len(allowed) {
		return nil, fmt.Errorf("%d CPUs asked, and this machine lets this program run on %d (%s)", n, len(allowed), cpuList(allowed))
	}
	return slices.Clone(allowed[:n]), nil
}

// cpuList writes CPUs as "0,1,2".
func cpuList(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = fmt.Sprint(c)
	}
	return strings.Join(s, ",")
}
