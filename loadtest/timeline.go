package loadtest

import "github.com/primetime-lab/primetime/internal/timeline"

// TraceFigures are a row's figures from its timeline, taken while the long
// request runs, as gil_load gives them: the share of the time the long
// request's thread held the interpreter lock and the share the others did,
// the others' waits for it (p50, p99), drop requests and switches per
// second, failed wake-ups; the event loops' busy share; the executor's
// largest queue; the other requests' p99 latency. A figure of a part the
// row does not have (no lock in Go mode, no loop, no queue) is zero, and
// Lock, Loop and Queue say which parts it has.
type TraceFigures = timeline.Figures
