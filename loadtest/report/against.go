package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/primetime-lab/primetime/loadtest"
)

// writeAgainst writes, for a comparison with sweeps, each point's
// Python-mode rows beside their CPython rows: the small requests'
// throughput before the long request (the whole run without one), their
// p99, and the ratios, Python mode over CPython. It writes nothing
// without sweeps or without such pairs.
func writeAgainst(w io.Writer, cmp *loadtest.Comparison) {
	if len(cmp.Sweeps) == 0 {
		return
	}
	type key struct {
		strategy, point string
		gil             int64
	}
	cpython := map[key]loadtest.Row{}
	for _, r := range cmp.Rows {
		if r.Runtime != "" {
			cpython[key{r.Strategy, r.PointLabel(), int64(r.GIL)}] = r
		}
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "Python mode against CPython\t"
	for _, sw := range cmp.Sweeps {
		head += sw.Name + "\t"
	}
	fmt.Fprintln(tw, head+"Python mode/s\tCPython/s\tratio\tPython mode p99\tCPython p99\tratio\t")
	pairs := 0
	for _, r := range byStrategy(cmp.Rows) {
		if r.Runtime != "" || r.GIL <= 0 {
			continue
		}
		c, ok := cpython[key{r.Strategy, r.PointLabel(), int64(r.GIL)}]
		if !ok {
			continue
		}
		pairs++
		cells := []string{r.Strategy}
		for _, s := range r.Point {
			cells = append(cells, s.Value)
		}
		cells = append(cells, count(r.Before), count(c.Before), ratio(r.Before, c.Before),
			short(r.P99), short(c.P99), ratio(float64(r.P99), float64(c.P99)))
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if pairs == 0 {
		return
	}
	tw.Flush()
	fmt.Fprintln(w)
	writeTrimmed(w, buf.Bytes())
}

// ratio formats a / b, or "-" if b is 0.
func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}
