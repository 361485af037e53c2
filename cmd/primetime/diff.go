package main

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/report"
)

// diff compares two saved comparisons, or two saved runs of load, row by
// row, as benchstat compares two runs of benchmarks.
func runDiff(args []string, stdout, stderr io.Writer) int {
	c := newCommand("diff", "primetime diff OLD.json NEW.json (two saved comparisons, from compare -json, or two saved runs, from load -json)", stdout, stderr)
	if code, ok := c.parse(args, 2); !ok {
		return code
	}
	var sides [2]*loadtest.Comparison
	var runs [2]bool
	for i, name := range c.Args() {
		cmp, res, err := readSaved(name)
		if err != nil {
			return c.fail(err, 1)
		}
		sides[i], runs[i] = cmp, res != nil
	}
	if runs[0] != runs[1] {
		kind := func(i int) string {
			if runs[i] {
				return "a run of load"
			}
			return fmt.Sprintf("a comparison of %d rows", len(sides[i].Rows))
		}
		return c.fail(fmt.Errorf("%s is %s and %s is %s: diff compares two of a kind", c.Arg(0), kind(0), c.Arg(1), kind(1)), 1)
	}
	if d := scenarioDiff(sides[0].Scenario, sides[1].Scenario); d != "" {
		fmt.Fprintf(stderr, "primetime diff: the scenarios differ (%s), so a difference may be theirs, not the servers'\n", d)
	}
	if err := report.Diff(stdout, sides[0], sides[1]); err != nil {
		return c.fail(err, 1)
	}
	return 0
}

// scenarioDiff lists the fields in which two scenarios differ, but for
// where the server was, or "" if they do not.
func scenarioDiff(a, b loadtest.Scenario) string {
	a.Addr, b.Addr, a.ServerPID, b.ServerPID = "", "", 0, 0
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		f := va.Type().Field(i)
		if !f.IsExported() || f.Type.Kind() == reflect.Func {
			continue
		}
		x, y := va.Field(i).Interface(), vb.Field(i).Interface()
		if !reflect.DeepEqual(x, y) {
			out = append(out, fmt.Sprintf("%s %v, then %v", f.Name, x, y))
		}
	}
	return strings.Join(out, "; ")
}

// readSaved reads a saved comparison, or a saved run of load, which it
// returns too, as a comparison of one row.
func readSaved(name string) (*loadtest.Comparison, *loadtest.Result, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	cmp, cmpErr := loadtest.ReadComparisonJSON(f)
	if cmpErr == nil {
		return cmp, nil, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, nil, err
	}
	res, err := loadtest.ReadJSON(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s is neither a saved comparison (compare -json) nor a saved run (load -json): %v", name, cmpErr)
	}
	s := res.Summary
	row := loadtest.Row{Strategy: "run", Before: s.Before, During: s.During, After: s.After, NoDuring: s.NoDuring, NoAfter: s.NoAfter, Kept: s.Kept, KeptMissing: s.KeptMissing}
	return &loadtest.Comparison{Scenario: res.Scenario, Conditions: res.Conditions, Rows: []loadtest.Row{row}, Results: []*loadtest.Result{res}}, res, nil
}
