package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/report"
)

// mergeMemory is the heap merge aims to stay under, unless GOMEMLIMIT says
// otherwise.
const mergeMemory = 64 << 20

// runMerge adds up runs of load made together by several generators
// against one server, exactly, and shows and writes the merged run as load
// does its own.
func runMerge(args []string, stdout, stderr io.Writer) int {
	c := newCommand("merge", "primetime merge [flags] RUN.json RUN.json ... (from load -json, made together: load -start-at)", stdout, stderr)
	jsonFile := c.String("json", "", "write the merged run as JSON to `file`")
	hlogFile := c.String("hlog", "", "write the merged intervals' latency histograms as an HdrHistogram interval log to `file`")
	htmlFile := c.String("html", "", "write the merged run's charts and figures as a self-contained HTML page to `file`")
	if code, ok := c.parse(args, -1); !ok {
		return code
	}
	if c.NArg() == 0 {
		return c.usageError("give the runs to merge: the -json files of load")
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		// Merge keeps little (one histogram beside the compressed ones),
		// but each histogram it encodes makes a compressor's worth of
		// garbage: collected sooner, it stays well under 100 MB.
		debug.SetMemoryLimit(mergeMemory)
	}
	var parts []*loadtest.Result
	for _, name := range c.Args() {
		f, err := os.Open(name)
		if err != nil {
			return c.fail(err, 1)
		}
		res, err := loadtest.ReadJSON(f)
		f.Close()
		if err != nil {
			return c.fail(fmt.Errorf("%s: %w", name, err), 1)
		}
		parts = append(parts, res)
	}
	if err := checkOutputs(*jsonFile, *hlogFile, *htmlFile); err != nil {
		return c.fail(err, 2)
	}
	merged, err := loadtest.Merge(parts...)
	if err != nil {
		return c.fail(err, 1)
	}
	for i, p := range merged.Parts {
		if p.Skew > merged.Scenario.Interval/10 {
			fmt.Fprintf(stderr, "primetime merge: part %d started %v off the others' intervals: its clock, or its start, was off (load -start-at lines them up)\n", i+1, p.Skew)
		}
	}
	report.Summary(stdout, merged)
	var errs []error
	if *jsonFile != "" {
		errs = append(errs, writeFile(*jsonFile, merged.WriteJSON))
	}
	if *hlogFile != "" {
		errs = append(errs, writeFile(*hlogFile, func(w io.Writer) error { return merged.WriteHlog(w, "merged") }))
	}
	if *htmlFile != "" {
		errs = append(errs, writeFile(*htmlFile, func(w io.Writer) error { return report.RunHTML(w, merged) }))
	}
	if err := errors.Join(errs...); err != nil {
		return c.fail(err, 1)
	}
	return 0
}
