package server

import (
	"errors"
	"io"

	"github.com/primetime-lab/primetime/internal/timeline"
)

// A Recorder records a server's scheduling events for a timeline, as
// Beazley drew the GIL: in Python mode each interpreter thread's holds of
// the lock (and why each ended), its waits, the drop requests and the
// failed wake-ups; the event loop's polls and busy spans and the tasks it
// runs itself; each executor's tasks on their workers (goroutines, or
// processes by pid) and its queue's depth; each connection's requests from
// arrival to answer. It is off unless set on a Server, and bounded: its
// events live in a ring of a fixed budget, and once the anchor request has
// arrived it records until a window after it, then stops.
type Recorder = timeline.Recorder

// RecorderOptions bound a Recorder: its memory budget, the anchor request's
// payload (the long request, "10000", say) and the window kept around its
// arrival (250 ms before and 750 ms after by default).
type RecorderOptions = timeline.Options

// NewRecorder returns a Recorder bounded by o, for Server.Recorder.
func NewRecorder(o RecorderOptions) *Recorder { return timeline.New(o) }

// WriteTrace writes what the server's Recorder has, in the Trace Event
// Format that Perfetto's UI (ui.perfetto.dev) and chrome://tracing open:
// "X" events of cat "gil" named "hold" and "wait", of cat "loop" named
// "poll" and "busy", of cat "task" named after the task, of cat "queue"
// named "queued" and of cat "request"; "i" events of cat "gil" named "drop
// request" and "failed wake-up"; "C" events of cat "queue" with the
// depth; "M" events naming the processes and threads. args carry the
// request's payload ("request"), the lane's role and why a hold ended
// ("ended"). It may be called while the server serves.
func (s *Server) WriteTrace(w io.Writer) error {
	if s.Recorder == nil {
		return errors.New("server: WriteTrace with no Recorder set")
	}
	label := s.strategy().String()
	if s.GIL > 0 {
		label += " gil=" + s.GIL.String()
	}
	return s.Recorder.WriteTrace(w, timeline.Meta{Process: label, Task: s.task().Name()})
}
