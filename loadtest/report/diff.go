package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/primetime-lab/primetime/internal/textwrap"
	"github.com/primetime-lab/primetime/loadtest"
)

// ErrNoRowInCommon is the error of Diff for two comparisons that share no
// row.
var ErrNoRowInCommon = errors.New("report: the two comparisons have no row in common")

// Diff writes old and cur side by side, row by row, as benchstat compares
// two runs of benchmarks: for each row of cur that old has too, its
// before-rate and kept in both and the change, or "~" where the runs'
// spread allows no difference (a Mann-Whitney U test, p >= 0.05). A row
// with under minRuns runs on either side cannot differ significantly: its
// changes are shown alone, and a line says so. The rows of one side only
// are named. It returns ErrNoRowInCommon if no row is on both sides.
func Diff(w io.Writer, old, cur *loadtest.Comparison) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "old: %s\nnew: %s\n\n", old.Conditions, cur.Conditions)
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "row\told before/s\tnew before/s\tdelta\t\told kept\tnew kept\tdelta\t")
	matched, untested := 0, 0
	var onlyNew []string
	for _, n := range cur.Rows {
		o, ok := findRow(old, n.FullLabel())
		if !ok {
			onlyNew = append(onlyNew, n.FullLabel())
			continue
		}
		matched++
		sig := loadtest.CompareSamples(samplesOf(o), samplesOf(n))
		beforeDiffers, keptDiffers := sig.BeforeDiffers(), sig.KeptDiffers()
		if len(samplesOf(o).Before) < minRuns || len(samplesOf(n).Before) < minRuns {
			// Too few runs for any difference to be significant: the
			// changes alone, for what they are.
			untested++
			beforeDiffers, keptDiffers = true, true
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t%s\t%s\t%s\t\n", n.FullLabel(),
			count(o.Before), count(n.Before), delta(o.Before, n.Before, beforeDiffers),
			kept(o.Kept, o.KeptMissing), kept(n.Kept, n.KeptMissing), keptDelta(o, n, keptDiffers))
	}
	tw.Flush()
	writeTrimmed(ew, buf.Bytes())
	if matched == 0 {
		return ErrNoRowInCommon
	}
	var onlyOld []string
	for _, o := range old.Rows {
		if _, ok := findRow(cur, o.FullLabel()); !ok {
			onlyOld = append(onlyOld, o.FullLabel())
		}
	}
	fmt.Fprintln(ew)
	if untested < matched {
		fmt.Fprintln(ew, "~: no significant difference (Mann-Whitney U, p >= 0.05, as benchstat)")
	}
	if untested > 0 {
		fmt.Fprintln(ew, textwrap.Wrap(fmt.Sprintf("%d of %d rows ran under %d times on a side: their changes are shown alone, and may be noise; "+
			"significance needs compare -count %d or more on both sides", untested, matched, minRuns, minRuns+1), textwrap.Width))
	}
	if len(onlyOld) > 0 {
		fmt.Fprintln(ew, textwrap.Wrap("only in old: "+strings.Join(onlyOld, ", "), textwrap.Width))
	}
	if len(onlyNew) > 0 {
		fmt.Fprintln(ew, textwrap.Wrap("only in new: "+strings.Join(onlyNew, ", "), textwrap.Width))
	}
	return ew.err
}

// minRuns is the fewest runs a side needs for a Mann-Whitney U test at
// p < 0.05 to find a difference.
const minRuns = 4

func findRow(cmp *loadtest.Comparison, label string) (loadtest.Row, bool) {
	for _, r := range cmp.Rows {
		if r.FullLabel() == label {
			return r, true
		}
	}
	return loadtest.Row{}, false
}

// samplesOf returns a row's runs' figures: one run's if it ran once.
func samplesOf(r loadtest.Row) *loadtest.Samples {
	if r.Samples != nil {
		return r.Samples
	}
	s := &loadtest.Samples{Before: []float64{r.Before}}
	if r.KeptMissing == "" {
		s.Kept = []float64{r.Kept}
	}
	return s
}

// delta formats the change from a to b, "~" if it is not significant.
func delta(a, b float64, differs bool) string {
	if !differs {
		return "~"
	}
	if a == 0 {
		return "?"
	}
	return fmt.Sprintf("%+.1f%%", 100*(b-a)/a)
}

// keptDelta formats the change of kept in points, "~" if not significant.
func keptDelta(a, b loadtest.Row, differs bool) string {
	if a.KeptMissing != "" || b.KeptMissing != "" {
		return "-"
	}
	if !differs {
		return "~"
	}
	return fmt.Sprintf("%+.1f pts", 100*(b.Kept-a.Kept))
}
