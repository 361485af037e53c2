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
	// PID is the server's process; 0 means this process.
	PID int
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
	r.flush()
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
	if meta.PID != 0 {
		pid = int32(meta.PID)
	}
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
	task, err := json.Marshal(meta.Task)
	if err != nil || meta.Task == "" {
		task = []byte(`"task"`)
	}
	roles := make([][]byte, len(lanes))
	for i, l := range lanes {
		if l.role != "" {
			roles[i], _ = json.Marshal(l.role)
		}
	}
	// The events are written by hand, not through maps: a run's trace
	// has hundreds of thousands.
	var b []byte
	for i := range events {
		e := &events[i]
		s := shapes[e.Kind]
		p := pid
		if e.PID != 0 {
			p = e.PID
		}
		b = append(b[:0], sep...)
		b = append(b, `{"ph":"`...)
		b = append(b, s.ph...)
		b = append(b, `","cat":"`...)
		b = append(b, s.cat...)
		b = append(b, `","name":`...)
		if e.Kind == Task {
			b = append(b, task...)
		} else {
			b = append(b, '"')
			b = append(b, s.name...)
			b = append(b, '"')
		}
		b = append(b, `,"ts":`...)
		b = strconv.AppendFloat(b, micros(e.TS), 'f', -1, 64)
		if s.ph == "X" {
			b = append(b, `,"dur":`...)
			b = strconv.AppendFloat(b, micros(e.Dur), 'f', -1, 64)
		}
		if e.Kind == DropRequest || e.Kind == FailedWake {
			b = append(b, `,"s":"t"`...)
		}
		b = append(b, `,"pid":`...)
		b = strconv.AppendInt(b, int64(p), 10)
		b = append(b, `,"tid":`...)
		b = strconv.AppendInt(b, int64(e.Lane), 10)
		b = append(b, `,"args":{`...)
		if e.Kind == Depth {
			b = append(b, `"depth":`...)
			b = strconv.AppendInt(b, int64(e.N), 10)
		} else {
			comma := false
			field := func(key string) {
				if comma {
					b = append(b, ',')
				}
				comma = true
				b = append(b, '"')
				b = append(b, key...)
				b = append(b, `":`...)
			}
			if int(e.Lane) >= 1 && int(e.Lane) <= len(lanes) && roles[e.Lane-1] != nil {
				field("role")
				b = append(b, roles[e.Lane-1]...)
			}
			if e.plen > 0 {
				field("request")
				b = appendString(b, e.Payload())
			}
			switch e.Kind {
			case Hold:
				field("ended")
				b = appendString(b, e.Why.String())
			case Busy:
				field("events")
				b = strconv.AppendInt(b, int64(e.N), 10)
			}
		}
		b = append(b, "}}"...)
		if _, err := bw.Write(b); err != nil {
			return err
		}
		sep = ",\n"
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// appendString appends s as a JSON string: a request's payload is the
// client's bytes, any of them.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// micros converts the recorder's nanoseconds to the format's microseconds.
func micros(ns int64) float64 { return float64(ns) / 1e3 }
