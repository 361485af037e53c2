package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/primetime-lab/primetime/loadtest"
)

// diff compares two saved comparisons, or two saved runs of load, row by
// row, as benchstat compares two runs of benchmarks.
func diff(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: primetime diff OLD.json NEW.json (from compare -json or load -json)")
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return 2
	}
	var sides [2]*loadtest.Comparison
	for i, name := range fs.Args() {
		cmp, err := readSaved(name)
		if err != nil {
			fmt.Fprintf(stderr, "primetime diff: %v\n", err)
			return 1
		}
		sides[i] = cmp
	}
	old, cur := sides[0], sides[1]
	fmt.Fprintf(stdout, "old: %s\nnew: %s\n\n", old.Conditions, cur.Conditions)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
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
	if matched == 0 {
		fmt.Fprintln(stderr, "primetime diff: the two files have no row in common")
		return 1
	}
	fmt.Fprintln(stdout, "\n~: no significant difference (Mann-Whitney U, p >= 0.05, as benchstat); rows that ran once, or under 4 times, never differ")
	return 0
}

// readSaved reads a comparison, or a run of load as a comparison of one
// row.
func readSaved(name string) (*loadtest.Comparison, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if cmp, err := loadtest.ReadComparisonJSON(f); err == nil && len(cmp.Rows) > 0 {
		return cmp, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	res, err := loadtest.ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s is neither a comparison nor a run: %w", name, err)
	}
	s := res.Summary
	row := loadtest.Row{Strategy: "run", Before: s.Before, During: s.During, After: s.After, Kept: s.Kept, KeptMissing: s.KeptMissing}
	return &loadtest.Comparison{Scenario: res.Scenario, Conditions: res.Conditions, Rows: []loadtest.Row{row}, Results: []*loadtest.Result{res}}, nil
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
