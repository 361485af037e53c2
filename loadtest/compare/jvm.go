package compare

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/internal/jvm"
	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/strategy"
)

// The Runtimes of the rows of the lecture's server in Java: platform
// threads, and virtual threads where the JDK has them.
const (
	jvmRuntime     = "jvm"
	virtualRuntime = "jvm-virtual"
)

// calibrateJava is the n the JVM's nth prime is timed at, to scale the
// long request: its trial division runs after the JIT has compiled it.
const calibrateJava = 3000

// jvmRows is what the JVM rows of an experiment share.
type jvmRows struct {
	java, version string
	long          string // the long request, scaled for the JVM
	virtual       bool   // the JDK has virtual threads
}

// jvmRows finds the java and scales the long request for it.
func (x Experiment) jvmRows(sc loadtest.Scenario) (*jvmRows, error) {
	if x.Task != "" && !slices.Contains(jvm.Tasks, x.Task) {
		return nil, fmt.Errorf("JVM rows serve the tasks %s only, not %q", strings.Join(jvm.Tasks, " and "), x.Task)
	}
	if sc.Protocol != "" && sc.Protocol != loadtest.Protocol("line") {
		return nil, fmt.Errorf("the lecture's server in Java speaks the line protocol only, not %s", sc.Protocol)
	}
	java, err := jvm.Find(x.Java)
	if err != nil {
		return nil, err
	}
	version, err := jvm.Version(java)
	if err != nil {
		return nil, err
	}
	j := &jvmRows{java: java, version: version, long: sc.Long, virtual: jvm.Major(version) >= jvm.VirtualThreads}
	prime := x.Task == "" || x.Task == "prime"
	if n, err := strconv.Atoi(sc.Long); prime && err == nil && n > 0 && (sc.SendsLong() || sc.Longs > 0) {
		key := "jvm " + java + " " + sc.Long
		if long, ok := x.scaled[key]; ok {
			j.long = long
			return j, nil
		}
		scaled, err := scaleLongFor(func(n int) (time.Duration, error) { return jvm.NthTime(java, n) }, calibrateJava, n)
		if err != nil {
			return nil, err
		}
		j.long = strconv.Itoa(scaled)
		if x.scaled != nil {
			x.scaled[key] = j.long
		}
	}
	return j, nil
}

// targets returns the JVM rows of s: none if the JVM has no counterpart of
// it, or j is nil; a perconn has a second, of virtual threads, where the
// JDK has them.
func (j *jvmRows) targets(s strategy.Strategy) []target {
	if j == nil {
		return nil
	}
	var out []target
	for _, virtual := range []bool{false, true} {
		if virtual && !j.virtual {
			break
		}
		if _, ok := jvm.Shape(strategy.Describe(s), virtual); ok {
			runtime := jvmRuntime
			if virtual {
				runtime = virtualRuntime
			}
			out = append(out, target{strategy: s, runtime: runtime, program: j.java, long: j.long})
		}
	}
	return out
}

// left says what the JVM rows leave out: virtual threads, where the JDK
// has none.
func (j *jvmRows) left() []string {
	if j == nil || j.virtual {
		return nil
	}
	return []string{fmt.Sprintf("no %s rows: virtual threads need Java %d or later, and the JVM rows' java is %s", virtualRuntime, jvm.VirtualThreads, j.version)}
}

// startJVM starts the lecture's server in Java for t.
func startJVM(t target, task string, cpus int, trace, long string, after time.Duration, stderr io.Writer, within time.Duration) (string, int, func() error, error) {
	shape, _ := jvm.Shape(strategy.Describe(t.strategy), t.runtime == virtualRuntime)
	o := jvm.Options{Task: task, Stderr: stderr, StartTimeout: within}
	if trace != "" {
		o.Trace, o.Label, o.Long, o.After = trace, t.label(), long, after
	}
	if cpus > 0 {
		var err error
		if o.CPUs, err = reexec.CPUsFor(cpus); err != nil {
			return "", 0, nil, err
		}
	}
	srv, err := jvm.Start(t.program, shape, o)
	if err != nil {
		return "", 0, nil, err
	}
	return srv.Addr, srv.Pid(), srv.Stop, nil
}
