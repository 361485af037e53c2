package loadtest

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// Conditions are what a run was measured under, recorded with its figures
// so that two results can be told apart, or compared at all.
type Conditions struct {
	// Start is when the measurement began.
	Start time.Time `json:"start"`
	// Command is the command line of the program that measured.
	Command []string `json:"command"`
	// Module is the version of this module in that program, as its build
	// information says ("(devel)" for a build from a work tree).
	Module string `json:"module"`
	// Go, OS, Arch and Kernel say what ran the program.
	Go     string `json:"go"`
	OS     string `json:"os"`
	Arch   string `json:"arch"`
	Kernel string `json:"kernel,omitempty"`
	// CPU is the processor's model, and CPUs how many the program saw.
	CPU  string `json:"cpu,omitempty"`
	CPUs int    `json:"cpus"`
	// GOMAXPROCS is the load generator's.
	GOMAXPROCS int `json:"gomaxprocs"`
	// ServerInProcess says the server ran in the generator's own process
	// (on Linux, where it can be told): they shared its scheduler, so
	// that the generator's goroutines took turns with the server's, and
	// the generator's CPU figures are both's.
	ServerInProcess bool `json:"server_in_process,omitempty"`
}

// CurrentConditions returns the conditions of a measurement that starts
// now.
func CurrentConditions() Conditions {
	c := Conditions{
		Start: time.Now(), Command: os.Args, Module: "unknown",
		Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		c.Module = info.Main.Version
		for _, dep := range info.Deps {
			if dep.Path == "github.com/primetime-lab/primetime" {
				c.Module = dep.Version
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		c.Kernel = strings.TrimSpace(string(b))
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if name, value, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
				c.CPU = strings.TrimSpace(value)
				break
			}
		}
	}
	return c
}

// String says the conditions in one line.
func (c Conditions) String() string {
	cpu := c.CPU
	if cpu == "" {
		cpu = "CPU"
	}
	kernel := c.OS
	if c.Kernel != "" {
		kernel += " " + c.Kernel
	}
	s := fmt.Sprintf("%s, %d × %s, %s/%s, %s, GOMAXPROCS %d, primetime %s",
		c.Start.Format(time.RFC3339), c.CPUs, cpu, kernel, c.Arch, c.Go, c.GOMAXPROCS, c.Module)
	if c.ServerInProcess {
		s += "; the server in the generator's process, sharing its scheduler and its CPU figures"
	}
	return s
}
