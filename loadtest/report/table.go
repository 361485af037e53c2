package report

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/primetime-lab/primetime/internal/textwrap"
	"github.com/primetime-lab/primetime/loadtest"
)

// Table writes cmp as the command's table, one line per row, then the
// conditions it was measured under; with idle connections measured, a
// column says how much memory each took in the server. A row that ran more
// than once shows its medians, the range of before and kept, and "~" where
// kept does not differ significantly from its reference row. Rows with a
// timeline get a second table, of its figures while the long request ran.
func Table(w io.Writer, cmp *loadtest.Comparison) error {
	ew := &errWriter{w: w}
	writeTable(ew, cmp)
	writeAgainst(ew, cmp)
	writeWhy(ew, cmp)
	fmt.Fprintf(ew, "measured %s\n", cmp.Conditions)
	if cmp.Python != "" {
		fmt.Fprintf(ew, "CPython rows: %s\n", cmp.Python)
	}
	if cmp.Java != "" {
		fmt.Fprintf(ew, "JVM rows: %s\n", cmp.Java)
	}
	for _, l := range cmp.Left {
		fmt.Fprintf(ew, "left out: %s\n", l)
	}
	return ew.err
}

func writeTable(w io.Writer, cmp *loadtest.Comparison) {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	idle := ""
	if cmp.Idle > 0 {
		idle = "idle conn\t"
	}
	// With sweeps, a strategy's rows at every point stand together, the
	// swept values in columns of their own, and each point's latency.
	points, swept := "", ""
	for _, sw := range cmp.Sweeps {
		swept += sw.Name + "\t"
	}
	if swept != "" {
		swept += "p50\tp99\t"
	}
	knees := ""
	for _, r := range cmp.Rows {
		if r.Knee != nil {
			knees = "knee/s\t"
		}
	}
	fmt.Fprintf(tw, "strategy\t%s%sbefore/s\tduring/s\tafter/s\tkept\tlong request\terrors\t%s\tnote\n", swept, knees, idle)
	repeated := false
	var notes []string // each note once, numbered under the table
	for _, r := range byStrategy(cmp.Rows) {
		knee := ""
		if knees != "" {
			knee = kneeCell(r.Knee) + "\t"
		}
		long := "unanswered"
		switch {
		case r.NoLong:
			long = "-"
		case r.LongAnswered:
			long = short(r.LongLatency)
		}
		if swept != "" {
			points = ""
			for _, s := range r.Point {
				points += s.Value + "\t"
			}
			points += short(r.P50) + "\t" + short(r.P99) + "\t"
		}
		if cmp.Idle > 0 {
			idle = idleCell(r) + "\t"
		}
		repeated = repeated || r.Runs > 1
		note := ""
		if r.Note != "" {
			i := slices.Index(notes, r.Note)
			if i < 0 {
				i, notes = len(notes), append(notes, r.Note)
			}
			note = fmt.Sprintf("[%d]", i+1)
		}
		fmt.Fprintf(tw, "%s\t%s%s%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n",
			r.Label(), points, knee, beforeCell(r), rateCell(r.During, r.NoDuring), rateCell(r.After, r.NoAfter), keptCell(r), long, r.Errors, idle, note)
	}
	tw.Flush()
	writeTrimmed(w, buf.Bytes())
	if slices.ContainsFunc(cmp.Rows, func(r loadtest.Row) bool { return !r.NoLong }) {
		fmt.Fprintln(w, keptMeans)
	}
	for i, n := range notes {
		fmt.Fprintln(w, textwrap.Wrap(fmt.Sprintf("[%d] %s", i+1, n), textwrap.Width))
	}
	for _, c := range claims(cmp) {
		fmt.Fprintln(w, textwrap.Wrap("the lecture: "+c.line(), textwrap.Width))
	}
	if repeated {
		fmt.Fprintf(w, "%d runs each: medians (smallest-largest); ~ marks a kept no different from the row it is compared with,\n"+
			"its Go row or the first row, by a Mann-Whitney U test (p >= 0.05), as benchstat says it; under 4 runs nothing can differ\n", cmp.Rows[0].Runs)
	}
}

// kneeCell formats a knee: "-" if none was searched or none passed, and
// ">=" before one the generator bounded.
func kneeCell(k *loadtest.Knee) string {
	switch {
	case k == nil || k.Rate == 0 && !k.GeneratorBound:
		return "-"
	case k.GeneratorBound:
		return ">=" + count(k.Rate)
	}
	return count(k.Rate)
}

// byStrategy returns rows with each label's rows together, in the order
// the labels first come, each at its points in order: the order of a
// sweep's table. Rows without points keep their order.
func byStrategy(rows []loadtest.Row) []loadtest.Row {
	first := map[string]int{}
	for i, r := range rows {
		if _, ok := first[r.Label()]; !ok {
			first[r.Label()] = i
		}
	}
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b loadtest.Row) int { return first[a.Label()] - first[b.Label()] })
	return out
}

// beforeCell formats a row's before-rate: with the range of its runs when
// it ran more than once.
func beforeCell(r loadtest.Row) string {
	if r.Runs > 1 {
		return fmt.Sprintf("%s (%s-%s)", count(r.Before), count(r.BeforeRange[0]), count(r.BeforeRange[1]))
	}
	return count(r.Before)
}

// keptCell formats a row's kept: with the range of its runs and "~" when
// it does not differ significantly from its reference, when it ran more
// than once.
func keptCell(r loadtest.Row) string {
	cell := kept(r.Kept, r.KeptMissing)
	if r.Runs > 1 {
		if len(r.KeptRange) == 2 {
			cell += fmt.Sprintf(" (%.1f-%.1f%%)", 100*r.KeptRange[0], 100*r.KeptRange[1])
		}
		if sig := r.Significance; sig != nil && !sig.KeptDiffers() {
			cell += " ~"
		}
	}
	return cell
}

// idleCell formats a row's memory per idle connection; "-" for a strategy
// that cannot hold idle connections.
func idleCell(r loadtest.Row) string {
	if r.IdleBytes <= 0 {
		return "-"
	}
	return count(r.IdleBytes) + " B"
}

// keptMeans defines kept, under every table that has it.
const keptMeans = "kept = during/s ÷ before/s: the share of the small requests' flow that survived the long request (the lecture's figure)"

// writeTrimmed writes the lines of b without their trailing spaces: the
// padding of empty cells at the end of a table's lines.
func writeTrimmed(w io.Writer, b []byte) {
	for line := range bytes.Lines(b) {
		w.Write(append(bytes.TrimRight(line, " \n"), '\n'))
	}
}

// errWriter keeps the first error of its writes, so that a report can be
// written with fmt and checked once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
