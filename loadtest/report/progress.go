package report

import (
	"fmt"
	"io"

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
