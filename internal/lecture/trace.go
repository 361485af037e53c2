package lecture

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/internal/timeline"
)

// A step is one line of a server's --trace log.
type step struct {
	ns       int64
	kind     string
	pid, tid int
	n        string
	name     string
}

// WriteTrace turns a server's --trace log ("NS STEP PID TID N NAME" a line)
// into the Trace Event Format, as a server's Recorder would have recorded
// it: a Request span (cat "request") from each request's receipt to its
// answer, and a Task span from "computing" to "computed" on the thread or
// worker process that computed it, kept from before to after the arrival
// of the request long. A runtime's lock is not in the log: CPython's
// cannot be seen from Python.
func WriteTrace(log io.Reader, w io.Writer, long string, before, after time.Duration, meta timeline.Meta) error {
	var steps []step
	sc := bufio.NewScanner(log)
	for line := 1; sc.Scan(); line++ {
		f := strings.SplitN(sc.Text(), " ", 6)
		if len(f) < 6 {
			return fmt.Errorf("lecture: trace line %d: %q is not NS STEP PID TID N NAME", line, sc.Text())
		}
		ns, err1 := strconv.ParseInt(f[0], 10, 64)
		pid, err2 := strconv.Atoi(f[2])
		tid, err3 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || err3 != nil {
			return fmt.Errorf("lecture: trace line %d: %q is not NS STEP PID TID N NAME", line, sc.Text())
		}
		steps = append(steps, step{ns, f[1], pid, tid, f[4], f[5]})
	}
	if err := sc.Err(); err != nil {
		return err
	}
	slices.SortStableFunc(steps, func(a, b step) int { return cmp.Compare(a.ns, b.ns) })
	var now int64
	rec := timeline.New(timeline.Options{Anchor: long, Before: before, After: after, Clock: func() int64 { return now }})
	type lane struct {
		l                 *timeline.Lane
		request, computed int64
	}
	lanes := map[[2]int]*lane{}
	for _, s := range steps {
		now = s.ns - steps[0].ns
		key := [2]int{s.pid, s.tid}
		ln := lanes[key]
		if ln == nil {
			ln = &lane{}
			if s.pid != 0 {
				ln.l = rec.ProcessLane(s.name, "worker", s.pid)
			} else {
				ln.l = rec.Lane(s.name, role(s.name))
			}
			lanes[key] = ln
		}
		payload := []byte(s.n)
		switch s.kind {
		case "received":
			ln.request = ln.l.Arrive(payload)
		case "sent":
			ln.l.Span(timeline.Request, ln.request, payload)
		case "computing":
			ln.computed = now
		case "computed":
			ln.l.Span(timeline.Task, ln.computed, payload)
		}
	}
	return rec.WriteTrace(w, meta)
}

// role returns the role of a server's thread or connection called name.
func role(name string) string {
	switch {
	case strings.HasPrefix(name, "conn "):
		return "connection"
	case strings.HasPrefix(name, "ThreadPoolExecutor"):
		return "worker"
	case name == "MainThread":
		return "main"
	}
	return "thread"
}
