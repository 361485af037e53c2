package loadtest

import (
	"slices"
	"time"

	"golang.org/x/perf/benchmath"
)

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

// aggregate makes one row of a target's runs: the median of each figure,
// the ranges of before and kept, and every run's figures in Samples.
func aggregate(rows []Row) Row {
	if len(rows) == 1 {
		return rows[0]
	}
	out := rows[0]
	out.Runs = len(rows)
	var before, during, after, kept, idle, long []float64
	errors := 0
	for _, r := range rows {
		before, during, after = append(before, r.Before), append(during, r.During), append(after, r.After)
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
		out.GeneratorBound = out.GeneratorBound || r.GeneratorBound
		if r.Note != "" && out.Note == "" {
			out.Note = r.Note
		}
	}
	out.Samples = &Samples{Before: before, Kept: kept}
	out.Before, out.During, out.After = median(before), median(during), median(after)
	out.BeforeRange = spread(before)
	out.Errors = errors
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

// compareRows sets the significance of each repeated row against its
// reference: a Python-mode or CPython row's Go row (the row before it of
// its strategy without either), a Go row's the table's first row.
func compareRows(rows []Row) {
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
