package timeline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
)

// Meta names what a trace is of.
type Meta struct {
	// Process names the server's process, such as "perconn gil=5ms".
	Process string
	// Task is the name of the task that Task spans run.
	Task string
}

// The Trace Event Format's schema here, so that any reader finds things:
// "X" events of cat "gil" named "hold" and "wait", of cat "loop" named
// "poll" and "busy", of cat "task" named after the task, of cat "queue"
// named "queued", of cat "request" named "request"; "i" events of cat
// "gil" named "drop request" and "failed wake-up"; "C" events of cat
// "queue" named "queue" with args.depth; "M" events naming the processes
// and threads. args carry the request's payload ("request"), the lane's
// role ("role") and why a hold ended ("ended").
var shapes = [...]struct{ ph, cat, name string }{
	Hold:        {"X", "gil", "hold"},
	Wait:        {"X", "gil", "wait"},
	DropRequest: {"i", "gil", "drop request"},
	FailedWake:  {"i", "gil", "failed wake-up"},
	Poll:        {"X", "loop", "poll"},
	Busy:        {"X", "loop", "busy"},
	Task:        {"X", "task", ""},
	Queued:      {"X", "queue", "queued"},
	Request:     {"X", "request", "request"},
	Depth:       {"C", "queue", "queue"},
}

// Events returns the recorded events of the window, in order of time: all
// the ring holds, or with an anchor those from Before it to After it. It
// also reports whether the ring had lost some of the window's start.
func (r *Recorder) Events() (events []Event, truncated bool) {
	r.mu.Lock()
	size := uint64(len(r.ring))
	first := uint64(0)
	if r.n > size {
		first = r.n - size
	}
	events = make([]Event, 0, r.n-first)
	for i := first; i < r.n; i++ {
		events = append(events, r.ring[i%size])
	}
	anchored, from, to := r.anchored, r.anchor-int64(r.opts.Before), r.stop
	r.mu.Unlock()
	slices.SortStableFunc(events, func(a, b Event) int {
		switch {
		case a.TS < b.TS:
			return -1
		case a.TS > b.TS:
			return 1
		}
		return 0
	})
	if !anchored {
		return events, false
	}
	truncated = first > 0 && len(events) > 0 && events[0].TS > from
	kept := events[:0]
	for _, e := range events {
		if e.TS+e.Dur >= from && e.TS <= to {
			kept = append(kept, e)
		}
	}
	return kept, truncated
}

// WriteTrace writes the recorded window in the Trace Event Format.
func (r *Recorder) WriteTrace(w io.Writer, meta Meta) error {
	events, truncated := r.Events()
	r.mu.Lock()
	lanes := slices.Clone(r.lanes)
	anchored, anchor, refused, full := r.anchored, r.anchor, r.refused, r.full
	r.mu.Unlock()

	bw := bufio.NewWriter(w)
	pid := int32(os.Getpid())
	other := map[string]any{"recorder": "primetime", "anchor": r.opts.Anchor,
		"window_before_us": r.opts.Before.Microseconds(), "window_after_us": r.opts.After.Microseconds(),
		"truncated": truncated, "budget_filled": full, "lanes_refused": refused}
	if anchored {
		other["anchor_ts"] = micros(anchor)
	}
	head, err := json.Marshal(other)
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, `{"displayTimeUnit":"ms","otherData":%s,"traceEvents":[`+"\n", head)
	sep := ""
	emit := func(v map[string]any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		bw.WriteString(sep)
		bw.Write(b)
		sep = ",\n"
		return nil
	}
	name := meta.Process
	if name == "" {
		name = "primetime"
	}
	emit(map[string]any{"ph": "M", "cat": "__metadata", "ts": 0, "name": "process_name", "pid": pid, "tid": 0, "args": map[string]any{"name": name}})
	named := map[int32]bool{pid: true}
	for i, l := range lanes {
		p := pid
		if l.pid != 0 {
			p = l.pid
			if !named[p] {
				named[p] = true
				emit(map[string]any{"ph": "M", "cat": "__metadata", "ts": 0, "name": "process_name", "pid": p, "tid": 0, "args": map[string]any{"name": "worker " + strconv.Itoa(int(p))}})
			}
		}
		emit(map[string]any{"ph": "M", "cat": "__metadata", "ts": 0, "name": "thread_name", "pid": p, "tid": i + 1, "args": map[string]any{"name": l.name}})
		emit(map[string]any{"ph": "M", "cat": "__metadata", "ts": 0, "name": "thread_sort_index", "pid": p, "tid": i + 1, "args": map[string]any{"sort_index": i + 1}})
	}
	task := meta.Task
	if task == "" {
		task = "task"
	}
	for i := range events {
		e := &events[i]
		s := shapes[e.Kind]
		p := pid
		if e.PID != 0 {
			p = e.PID
		}
		v := map[string]any{"ph": s.ph, "cat": s.cat, "name": s.name, "ts": micros(e.TS), "pid": p, "tid": e.Lane}
		args := map[string]any{}
		if int(e.Lane) >= 1 && int(e.Lane) <= len(lanes) && lanes[e.Lane-1].role != "" {
			args["role"] = lanes[e.Lane-1].role
		}
		if e.plen > 0 {
			args["request"] = e.Payload()
		}
		switch e.Kind {
		case Task:
			v["name"] = task
		case Hold:
			args["ended"] = e.Why.String()
		case Busy:
			args["events"] = e.N
		case Depth:
			args = map[string]any{"depth": e.N}
		case DropRequest, FailedWake:
			v["s"] = "t"
		}
		if s.ph == "X" {
			v["dur"] = micros(e.Dur)
		}
		v["args"] = args
		if err := emit(v); err != nil {
			return err
		}
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// micros converts the recorder's nanoseconds to the format's microseconds.
func micros(ns int64) float64 { return float64(ns) / 1e3 }
