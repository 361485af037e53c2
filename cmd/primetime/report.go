package main

import (
	"io"

	"github.com/primetime-lab/primetime/loadtest/report"
)

// runReport shows a saved comparison, or a saved run of load, as compare or
// load showed it, and writes its page with -html.
func runReport(args []string, stdout, stderr io.Writer) int {
	c := newCommand("report", "primetime report [-html FILE] SAVED.json (from compare -json or load -json)", stdout, stderr)
	html := c.String("html", "", "write the charts and the table as a self-contained HTML page to `file`")
	if code, ok := c.parse(args, 1); !ok {
		return code
	}
	cmp, res, err := readSaved(c.Arg(0))
	if err != nil {
		return c.fail(err, 1)
	}
	if *html != "" {
		if err := checkOutputs(*html); err != nil {
			return c.fail(err, 1)
		}
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
			return c.fail(err, 1)
		}
	}
	return 0
}
