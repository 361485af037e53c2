package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/primetime-lab/primetime/loadtest/report"
)

// runReport shows a saved comparison, or a saved run of load, as compare or
// load showed it, and writes its page with -html.
func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	html := fs.String("html", "", "write the charts and the table as a self-contained HTML page to `file`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: primetime report [-html FILE] SAVED.json (from compare -json or load -json)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	cmp, res, err := readSaved(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "primetime report: %v\n", err)
		return 1
	}
	if res != nil {
		report.Summary(stdout, res)
	} else {
		showComparison(stdout, cmp)
	}
	if *html != "" {
		page := func(w io.Writer) error { return report.HTML(w, cmp) }
		if res != nil {
			page = func(w io.Writer) error { return report.RunHTML(w, res) }
		}
		if err := writeFile(*html, page); err != nil {
			fmt.Fprintf(stderr, "primetime report: %v\n", err)
			return 1
		}
	}
	return 0
}
