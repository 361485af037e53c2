package report

import (
	"fmt"
	"io"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
)

// Progress shows an experiment's runs as they go, as the command does: a
// line per run, a dot per interval and a bar while the long request is in
// flight, then the run's figures. It has the methods of compare.Progress.
type Progress struct {
	w     io.Writer
	width int
}

// NewProgress returns a Progress that writes to w.
func NewProgress(w io.Writer) *Progress { return &Progress{w: w, width: 22} }

// Align makes room for the longest of labels (compare.Plan's Rows), so
// that the runs' figures line up.
func (p *Progress) Align(labels ...string) {
	for _, l := range labels {
		p.width = max(p.width, len(l))
	}
}

// Start begins a run's line.
func (p *Progress) Start(strategy string, _ loadtest.Scenario) {
	fmt.Fprintf(p.w, "%-*s ", p.width, strategy)
}

// Interval marks an interval that closed.
func (p *Progress) Interval(_ string, iv loadtest.Interval, _ []loadtest.Event) {
	mark := "."
	if iv.LongInFlight {
		mark = "|"
	}
	fmt.Fprint(p.w, mark)
}

// Done ends a run's line with its figures, or with "failed" if it failed
// before it had any; the error is the caller's to show.
func (p *Progress) Done(_ string, r *loadtest.Result, err error) {
	if r == nil {
		fmt.Fprintln(p.w, " failed")
		return
	}
	s := r.Summary
	fmt.Fprintf(p.w, " %s/s before, kept %s", count(s.Before), kept(s.Kept, s.KeptMissing))
	if s.LongAnswered {
		fmt.Fprintf(p.w, ", long request %s", short(s.LongLatency))
	}
	if s.GeneratorBound {
		fmt.Fprintf(p.w, "; the generator may be the limit")
	}
	fmt.Fprintln(p.w)
}

// Legend says what the marks of the runs' lines are, once the runs are
// over: one per interval of the given length.
func (p *Progress) Legend(interval time.Duration) {
	fmt.Fprintf(p.w, "%-*s each mark is %s: . the small requests alone, | with the long request in flight\n", p.width, "", short(interval))
}

// Knee begins a row's knee search: a line that says what it looks for.
func (p *Progress) Knee(label string, probes int, probe, p99 time.Duration, keepUp float64) {
	fmt.Fprintf(p.w, "%-*s knee: up to %d probes of %s at open-loop rates; a rate is kept up with when %.0f%% of it is answered, p99 under %s\n",
		p.width, label, probes, short(probe), 100*keepUp, short(p99))
}

// Probe shows one probe of a knee search as it ends.
func (p *Progress) Probe(_ string, kp loadtest.KneePoint) {
	verdict := "kept up"
	if !kp.KeptUp {
		verdict = "fell behind"
	}
	if kp.GeneratorBound {
		verdict += "; the generator may be the limit"
	}
	fmt.Fprintf(p.w, "%-*s   %s/s asked: %s/s answered, p99 %s, %s\n", p.width, "", count(kp.Rate), count(kp.Achieved), short(kp.P99), verdict)
}
