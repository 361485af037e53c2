package timeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// A TraceEvent is one event of a trace in the Trace Event Format, as read.
type TraceEvent struct {
	// Ph is the event's phase ("X", "i", "C", "M", ...), Cat and Name
	// what it is.
	Ph   string `json:"ph"`
	Cat  string `json:"cat"`
	Name string `json:"name"`
	// TS is when it began, Dur how long it lasted ("X"), in microseconds.
	TS  float64 `json:"ts"`
	Dur float64 `json:"dur"`
	// PID and TID are its process and thread.
	PID int `json:"pid"`
	TID int `json:"tid"`
	// Args are its arguments.
	Args map[string]any `json:"args,omitempty"`
}

// Arg returns the event's argument key as a string, or "".
func (e TraceEvent) Arg(key string) string {
	s, _ := e.Args[key].(string)
	return s
}

// rawEvent is an event as decoded, its required fields pointers, so that
// a missing one is seen.
type rawEvent struct {
	Ph   *string        `json:"ph"`
	Cat  string         `json:"cat"`
	Name string         `json:"name"`
	TS   *float64       `json:"ts"`
	Dur  float64        `json:"dur"`
	PID  *int           `json:"pid"`
	TID  *int           `json:"tid"`
	Args map[string]any `json:"args"`
}

// A Thread is one (pid, tid) of a trace.
type Thread struct {
	// PID and TID are the process and the thread.
	PID, TID int
}

// A Trace is a trace in the Trace Event Format, as read.
type Trace struct {
	// Events are the trace's events other than metadata, in file order.
	Events []TraceEvent
	// Names are the threads' names, from "M" thread_name events.
	Names map[Thread]string
	// Processes are the processes' names, from "M" process_name events.
	Processes map[int]string
	// Other is the object form's otherData.
	Other map[string]any
}

// ReadTraceFile reads the trace in the file path, as ReadTrace does; its
// errors name the file.
func ReadTraceFile(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr, err := ReadTrace(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tr, nil
}

// ReadTrace reads a trace in the Trace Event Format, in its object form
// ({"traceEvents": [...]}) or its array form, and checks it as Validate
// does.
func ReadTrace(r io.Reader) (*Trace, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var raw []rawEvent
	t := &Trace{Names: map[Thread]string{}, Processes: map[int]string{}}
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
		err = json.Unmarshal(data, &raw)
	} else {
		var obj struct {
			TraceEvents []rawEvent     `json:"traceEvents"`
			OtherData   map[string]any `json:"otherData"`
		}
		err = json.Unmarshal(data, &obj)
		raw, t.Other = obj.TraceEvents, obj.OtherData
		if err == nil && obj.TraceEvents == nil {
			err = fmt.Errorf("no traceEvents")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("timeline: not a trace: %w", err)
	}
	last := map[Thread]float64{}
	open := map[Thread]int{}
	for i, r := range raw {
		for _, f := range [...]struct {
			key     string
			missing bool
		}{{"ph", r.Ph == nil}, {"ts", r.TS == nil}, {"pid", r.PID == nil}, {"tid", r.TID == nil}} {
			if f.missing {
				return nil, fmt.Errorf("timeline: event %d has no %q", i, f.key)
			}
		}
		e := TraceEvent{Ph: *r.Ph, Cat: r.Cat, Name: r.Name, TS: *r.TS, Dur: r.Dur, PID: *r.PID, TID: *r.TID, Args: r.Args}
		th := Thread{e.PID, e.TID}
		if e.Ph == "M" {
			name, _ := e.Args["name"].(string)
			switch e.Name {
			case "thread_name":
				t.Names[th] = name
			case "process_name":
				t.Processes[e.PID] = name
			}
			continue
		}
		if e.TS < last[th] {
			return nil, fmt.Errorf("timeline: event %d (%s %s) at %.3f µs is before its thread's previous one at %.3f µs", i, e.Cat, e.Name, e.TS, last[th])
		}
		last[th] = e.TS
		switch e.Ph {
		case "B":
			open[th]++
		case "E":
			if open[th] == 0 {
				return nil, fmt.Errorf("timeline: event %d ends a span that did not begin", i)
			}
			open[th]--
		case "X":
			if e.Dur < 0 {
				return nil, fmt.Errorf("timeline: event %d has a negative duration", i)
			}
		}
		t.Events = append(t.Events, e)
	}
	for th, n := range open {
		if n > 0 {
			return nil, fmt.Errorf("timeline: thread %d/%d has %d spans that did not end", th.PID, th.TID, n)
		}
	}
	return t, nil
}

// Anchor returns when the long request arrived, in the trace's
// microseconds: the recorder's anchor, or the start of the request span
// of payload long; ok is false if the trace has neither.
func (t *Trace) Anchor(long string) (ts float64, ok bool) {
	if ts, ok := t.Other["anchor_ts"].(float64); ok {
		return ts, true
	}
	for _, e := range t.Events {
		if e.Cat == "request" && long != "" && e.Arg("request") == long {
			return e.TS, true
		}
	}
	return 0, false
}
