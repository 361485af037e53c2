package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/report"
)

// diff compares two saved comparisons, or two saved runs of load, row by
// row, as benchstat compares two runs of benchmarks.
func runDiff(args []string, stdout, stderr io.Writer) int {
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
		cmp, _, err := readSaved(name)
		if err != nil {
			fmt.Fprintf(stderr, "primetime diff: %v\n", err)
			return 1
		}
		sides[i] = cmp
	}
	if err := report.Diff(stdout, sides[0], sides[1]); err != nil {
		fmt.Fprintf(stderr, "primetime diff: %v\n", err)
		return 1
	}
	return 0
}

// readSaved reads a saved comparison, or a saved run of load, which it
// returns too, as a comparison of one row.
func readSaved(name string) (*loadtest.Comparison, *loadtest.Result, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	if cmp, err := loadtest.ReadComparisonJSON(f); err == nil && len(cmp.Rows) > 0 {
		return cmp, nil, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, err
	}
	res, err := loadtest.ReadJSON(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s is neither a comparison nor a run: %w", name, err)
	}
	s := res.Summary
	row := loadtest.Row{Strategy: "run", Before: s.Before, During: s.During, After: s.After, Kept: s.Kept, KeptMissing: s.KeptMissing}
	return &loadtest.Comparison{Scenario: res.Scenario, Conditions: res.Conditions, Rows: []loadtest.Row{row}, Results: []*loadtest.Result{res}}, res, nil
}
