package loadtest

import (
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/perf/benchmath"
)

// A Comparison is several servers measured under one Scenario, side by
// side: a Row per server (a strategy in Go mode, in Python mode, or the
// lecture's server under CPython), in the order they were asked for, and
// the Result of every run, in the order they ran. Package loadtest/compare
// makes one. It encodes to JSON with WriteJSON and back with
// ReadComparisonJSON.
type Comparison struct {
	Scenario Scenario `json:"scenario"`
	// Conditions are what the comparison was measured under: the load
	// generator's; each row's server ran in the conditions its row says.
	Conditions Conditions `json:"conditions"`
	// Python is the version of the Python that served the CPython rows.
	Python string `json:"python,omitempty"`
	// Java is the version of the JVM that served the JVM rows.
	Java string `json:"java,omitempty"`
	// Left says what the experiment asked for that its machine could not
	// run, and why: a line each.
	Left []string `json:"left,omitempty"`
	// Task is the task the servers ran, if not the prime task.
	Task string `json:"task,omitempty"`
	// Sweeps are the experiment's sweeps, if any: each row's Point is a
	// value of each.
	Sweeps []Sweep `json:"sweeps,omitempty"`
	// Claims are the lecture's claims that the rows check
	// (LectureClaims), for a reader of the file.
	Claims []Claim `json:"claims,omitempty"`
	// Idle is how many idle connections measured each row's IdleBytes,
	// or 0.
	Idle    int       `json:"idle,omitempty"`
	Rows    []Row     `json:"rows"`
	Results []*Result `json:"results"`
}

// A Row is one run's line in a Comparison: a strategy, in Go mode or in
// Python mode.
type Row struct {
	Strategy string `json:"strategy"`
	// GIL is the switch interval of Python mode, or 0 for Go mode; for a
	// CPython row, its switch interval (0: CPython's default, 5 ms).
	GIL time.Duration `json:"gil,omitempty"`
	// Runtime is "cpython" for a row the lecture's server served under
	// CPython ("cpython-nogil" under a free-threaded build running
	// without its lock), "jvm" for one the Java server served with
	// platform threads ("jvm-virtual" with virtual threads), and empty for
	// the Go server.
	Runtime string `json:"runtime,omitempty"`
	// MaxProcs is the server's GOMAXPROCS; 0 for a CPython row.
	MaxProcs int `json:"gomaxprocs,omitempty"`
	// CPUs is how many CPUs the server's processes ran on, by their CPU
	// affinity; 0 for every CPU of the machine.
	CPUs int `json:"cpus,omitempty"`
	// Long is the long request of a row whose long request was not the
	// scenario's: CPython's, scaled.
	Long string `json:"long,omitempty"`
	// Reconnect says the small requests used a new connection each.
	Reconnect bool `json:"reconnect,omitempty"`
	// Before, During and After are the small requests' answers per
	// second; Kept is During / Before, reported only when the long
	// request was answered (otherwise KeptMissing says why).
	Before      float64 `json:"before"`
	During      float64 `json:"during"`
	After       float64 `json:"after"`
	NoDuring    bool    `json:"no_during,omitempty"` // as in Summary
	NoAfter     bool    `json:"no_after,omitempty"`
	Kept        float64 `json:"kept"`
	KeptMissing string  `json:"kept_missing,omitempty"`
	// NoLong says the run sent no long request. LongAnswered says
	// whether the long request was answered before the run ended, and
	// LongLatency how long it took.
	NoLong       bool          `json:"no_long,omitempty"`
	LongAnswered bool          `json:"long_answered"`
	LongLatency  time.Duration `json:"long_latency,omitempty"`
	// Errors counts the small requests that failed (in all its runs).
	Errors int `json:"errors"`
	// P50 and P99 are the small requests' latency percentiles over the
	// run after the warm-up, and InFlight how many were in flight on
	// average (Summary.InFlight).
	P50      time.Duration `json:"p50,omitempty"`
	P99      time.Duration `json:"p99,omitempty"`
	InFlight float64       `json:"in_flight,omitempty"`
	// Runs is how many times the row ran, when more than once: its figures are then the runs' medians, BeforeRange and
	// KeptRange their smallest and largest, Samples every run's, and
	// Significance says whether they differ from another row's.
	Runs         int           `json:"runs,omitempty"`
	BeforeRange  []float64     `json:"before_range,omitempty"`
	KeptRange    []float64     `json:"kept_range,omitempty"`
	Samples      *Samples      `json:"samples,omitempty"`
	Significance *Significance `json:"significance,omitempty"`
	// GeneratorBound says that the load generator may have set the pace
	// (see Summary.GeneratorBound), in any of the row's runs.
	GeneratorBound bool `json:"generator_bound,omitempty"`
	// IdleBytes is the server's resident memory per idle connection,
	// measured with Comparison.Idle connections; 0 if not measured.
	IdleBytes float64 `json:"idle_bytes_per_conn,omitempty"`
	// Trace is the file of the row's timeline, its first run's if it ran
	// more than once, and Timeline the figures taken from it.
	Trace    string        `json:"trace,omitempty"`
	Timeline *TraceFigures `json:"timeline,omitempty"`
	// Knee is the row's knee, when the experiment searched for it.
	Knee *Knee `json:"knee,omitempty"`
	// Point is the row's point in the experiment's sweeps: the value of
	// each swept setting; nil without sweeps.
	Point []Setting `json:"point,omitempty"`
	// Note explains a figure that would mislead on its own.
	Note string `json:"note,omitempty"`
	// Interrupted says that something outside the server failed during
	// the run (its NATS server was unreachable): the row's figures are
	// not the strategy's, and the row needs running again.
	Interrupted bool `json:"interrupted,omitempty"`
}

// A Sweep repeats a comparison at each of its Values of the setting Name,
// as text: "rate" (open loop, the small requests per second in all),
// "clients", "request" (the small request), "gil" (the switch interval of
// the Python-mode and CPython rows), "longs" (Scenario.Longs), "maxprocs"
// (each server's GOMAXPROCS), "cpus" (how many CPUs each server's
// processes run on) or "preempt" ("async", Go's default, or "off": Go
// servers with GODEBUG=asyncpreemptoff=1).
type Sweep struct {
	// Name is the setting swept.
	Name string `json:"name"`
	// Values are its values, in the order the points run.
	Values []string `json:"values"`
}

// A Knee is a row's knee: the highest open-loop rate of small requests at
// which the server kept up (answered nearly all of the rate) with their
// p99 under a bound, and every rate probed to find it. A
// probe where the generator may have been the limit ends the search, and
// GeneratorBound says that Rate is then only a lower bound.
type Knee struct {
	// Rate is the knee, in small requests per second; 0 if no rate
	// passed.
	Rate float64 `json:"rate"`
	// GeneratorBound says the search ended where the generator may have
	// been the limit: Rate is then a lower bound.
	GeneratorBound bool `json:"generator_bound,omitempty"`
	// Points are the probes, in the order they ran.
	Points []KneePoint `json:"points"`
}

// A KneePoint is one probe of a knee search: the rate asked and achieved,
// the p99, and whether the server kept up.
type KneePoint struct {
	// Rate is the rate asked, Achieved the answers per second.
	Rate     float64 `json:"rate"`
	Achieved float64 `json:"achieved"`
	// P99 is the small requests' p99 at that rate.
	P99 time.Duration `json:"p99"`
	// KeptUp says the server kept up with the rate: it answered enough,
	// with the p99 under the bound. (It is not kept, the share of the
	// small requests' flow that survives a long request.)
	KeptUp bool `json:"kept_up"`
	// GeneratorBound says the generator may have been the limit.
	GeneratorBound bool `json:"generator_bound,omitempty"`
}

// A Setting is the value of one swept setting at a point, both as text:
// "gil" and "5ms", "longs" and "2".
type Setting struct {
	// Name is the setting, Value its value at the point.
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PointLabel names the row's point: "longs=1 gil=5ms", or "" without
// sweeps.
func (r Row) PointLabel() string {
	var parts []string
	for _, s := range r.Point {
		parts = append(parts, s.Name+"="+s.Value)
	}
	return strings.Join(parts, " ")
}

// FullLabel is Label, followed by the point in brackets if the row has
// one: "perconn gil=5ms [longs=1]".
func (r Row) FullLabel() string {
	if len(r.Point) == 0 {
		return r.Label()
	}
	return r.Label() + " [" + r.PointLabel() + "]"
}

// Label names the row: the strategy's text form, followed by " gil=5ms"
// in Python mode, or by " cpython" (and " si=2ms" for a switch interval
// of its own) for CPython.
func (r Row) Label() string { return label(r.Strategy, r.GIL, r.Runtime) }

func label(strategy string, gil time.Duration, runtime string) string {
	switch {
	case runtime != "" && gil > 0:
		return strategy + " " + runtime + " si=" + gil.String()
	case runtime != "":
		return strategy + " " + runtime
	case gil > 0:
		return strategy + " gil=" + gil.String()
	}
	return strategy
}

// Samples are a row's figures in each of its runs, in the order they ran.
type Samples struct {
	Before []float64 `json:"before"`
	Kept   []float64 `json:"kept,omitempty"`
}

// Significance says whether a row's figures differ from another row's
// more than their runs' spread allows, as benchstat says it: a
// Mann-Whitney U test, significant below Alpha.
type Significance struct {
	// Against is the label of the row compared with: a Python-mode or
	// CPython row's Go row, or for a Go row the first row of the table.
	Against string `json:"against"`
	// BeforeP and KeptP are the tests' p-values for the before-rate and
	// for kept (1 if either row lacks kept figures).
	BeforeP float64 `json:"before_p"`
	KeptP   float64 `json:"kept_p"`
	Alpha   float64 `json:"alpha"`
}

// BeforeDiffers and KeptDiffers report whether the difference is
// significant.
func (s Significance) BeforeDiffers() bool { return s.BeforeP < s.Alpha }

// KeptDiffers reports whether the difference in kept is significant.
func (s Significance) KeptDiffers() bool { return s.KeptP < s.Alpha }

// Aggregate makes one row of a row's runs, in the order they ran: the
// median of each figure, the ranges of before and kept, and every run's
// figures in Samples. One run is its own row.
func Aggregate(rows []Row) Row {
	if len(rows) == 1 {
		return rows[0]
	}
	out := rows[0]
	out.Runs = len(rows)
	var before, during, after, kept, idle, long, p50, p99, inFlight []float64
	errors := 0
	out.NoDuring, out.NoAfter = true, true
	for _, r := range rows {
		before = append(before, r.Before)
		if !r.NoDuring {
			during, out.NoDuring = append(during, r.During), false
		}
		if !r.NoAfter {
			after, out.NoAfter = append(after, r.After), false
		}
		if r.KeptMissing == "" {
			kept = append(kept, r.Kept)
		}
		if r.LongAnswered {
			long = append(long, float64(r.LongLatency))
		}
		if r.IdleBytes > 0 {
			idle = append(idle, r.IdleBytes)
		}
		errors += r.Errors
		p50, p99, inFlight = append(p50, float64(r.P50)), append(p99, float64(r.P99)), append(inFlight, r.InFlight)
		out.GeneratorBound = out.GeneratorBound || r.GeneratorBound
		if r.Note != "" && out.Note == "" {
			out.Note = r.Note
		}
	}
	out.Samples = &Samples{Before: before, Kept: kept}
	out.Before, out.During, out.After = median(before), median(during), median(after)
	out.BeforeRange = spread(before)
	out.Errors = errors
	out.P50, out.P99, out.InFlight = time.Duration(median(p50)), time.Duration(median(p99)), median(inFlight)
	out.IdleBytes = median(idle)
	out.LongAnswered = len(long) == len(rows)
	out.LongLatency = time.Duration(median(long))
	out.Kept, out.KeptRange, out.KeptMissing = 0, nil, ""
	if len(kept) > 0 {
		out.Kept, out.KeptRange = median(kept), spread(kept)
	} else {
		out.KeptMissing = rows[0].KeptMissing
	}
	return out
}

// SetSignificance sets the Significance of each row that ran more than
// once against its reference: a Python-mode or CPython row's Go row (the
// row before it of its strategy without either), a Go row's the table's
// first row.
func (c *Comparison) SetSignificance() {
	rows := c.Rows
	head := -1
	for i := range rows {
		r := &rows[i]
		variant := r.GIL > 0 || r.Runtime != ""
		if !variant {
			head = i
		}
		ref := 0
		if variant && head >= 0 && rows[head].Strategy == r.Strategy {
			ref = head
		}
		if ref == i || r.Samples == nil || rows[ref].Samples == nil {
			continue
		}
		sig := significance(r.Samples, rows[ref].Samples)
		sig.Against = rows[ref].Label()
		r.Significance = &sig
	}
}

// CompareSamples tests whether two rows' samples differ, as Compare does
// for a row and its reference (Against is left empty).
func CompareSamples(a, b *Samples) Significance { return significance(a, b) }

// significance tests two rows' samples.
func significance(a, b *Samples) Significance {
	th := &benchmath.DefaultThresholds
	test := func(x, y []float64) float64 {
		if len(x) == 0 || len(y) == 0 {
			return 1
		}
		return benchmath.AssumeNothing.Compare(benchmath.NewSample(x, th), benchmath.NewSample(y, th)).P
	}
	return Significance{BeforeP: test(a.Before, b.Before), KeptP: test(a.Kept, b.Kept), Alpha: th.CompareAlpha}
}

// median returns the median of xs, or 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread returns the smallest and the largest of xs.
func spread(xs []float64) []float64 {
	return []float64{slices.Min(xs), slices.Max(xs)}
}

// WriteJSON writes c as indented JSON.
func (c *Comparison) WriteJSON(w io.Writer) error { return writeJSON(w, c) }

// ReadComparisonJSON reads a Comparison written by its WriteJSON. It refuses
// fields a Comparison lacks, and JSON without a scenario or rows.
func ReadComparisonJSON(rd io.Reader) (*Comparison, error) {
	return readJSON[Comparison](rd, "a comparison")
}
