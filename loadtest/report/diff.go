package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/primetime-lab/primetime/loadtest"
)

// ErrNoRowInCommon is the error of Diff for two comparisons that share no
// row.
var ErrNoRowInCommon = errors.New("report: the two comparisons have no row in common")

// Diff writes old and cur side by side, row by row, as benchstat compares
// two runs of benchmarks: for each row of cur that old has too, its
// before-rate and kept in both and the change, or "~" where the runs'
// spread allows no difference (a Mann-Whitney U test, p >= 0.05). It returns
// ErrNoRowInCommon if there is no such row.
func Diff(w io.Writer, old, cur *loadtest.Comparison) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "old: %s\nnew: %s\n\n", old.Conditions, cur.Conditions)
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "row\told before/s\tnew before/s\tdelta\t\told kept\tnew kept\tdelta\t")
	matched := 0
	for _, n := range cur.Rows {
		o, ok := findRow(old, n.Label())
		if !ok {
			continue
		}
		matched++
		sig := loadtest.CompareSamples(samplesOf(o), samplesOf(n))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\t%s\t%s\t%s\t\n", n.Label(),
			count(o.Before), count(n.Before), delta(o.Before, n.Before, sig.BeforeDiffers()),
			kept(o.Kept, o.KeptMissing), kept(n.Kept, n.KeptMissing), keptDelta(o, n, sig.KeptDiffers()))
	}
	tw.Flush()
	writeTrimmed(ew, buf.Bytes())
	if matched == 0 {
		return ErrNoRowInCommon
	}
	fmt.Fprintln(ew, "\n~: no significant difference (Mann-Whitney U, p >= 0.05, as benchstat); rows that ran once, or under 4 times, never differ")
	return ew.err
}

func findRow(cmp *loadtest.Comparison, label string) (loadtest.Row, bool) {
	for _, r := range cmp.Rows {
		if r.Label() == label {
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
