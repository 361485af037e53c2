package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/primetime-lab/primetime/loadtest"
)

// whyHead heads the second table: the figures of each row's timeline
// while the long request ran, as gil_load gives them.
var whyHead = []string{"while the long request ran", "long holds", "others hold", "long hold p50", "others' p50", "wait p50", "wait p99", "waits/request p99",
	"drop req/s", "switches/s", "failed wake-ups", "loop busy", "largest queue", "request p99"}

// whyNote explains the second table.
const whyNote = "From each row's timeline: the lock's holds are shares of the long request's time, and their medians; waits are the other threads', " +
	"one at a time and all of a request's; request p99 is the others' from arrival to answer in the server; " +
	"- where a row has no such part (no lock in Go mode or CPython, no loop, no queue)."

// whyRows returns the second table's rows: one per row with a timeline.
func whyRows(cmp *loadtest.Comparison) [][]string {
	var rows [][]string
	for _, r := range cmp.Rows {
		f := r.Timeline
		if f == nil {
			continue
		}
		lock := func(s string) string {
			if !f.Lock {
				return "-"
			}
			return s
		}
		loop, queue := "-", "-"
		if f.Loop {
			loop = percent(f.LoopBusy)
		}
		if f.Queue {
			queue = fmt.Sprint(f.MaxQueue)
		}
		rows = append(rows, []string{r.Label(),
			lock(percent(f.LongHold)), lock(percent(f.SmallHold)), lock(ms(f.LongHoldP50MS)), lock(ms(f.SmallHoldP50MS)), lock(ms(f.WaitP50MS)), lock(ms(f.WaitP99MS)),
			lock(ms(f.RequestWaitP99MS)), lock(count(f.DropRequests)), lock(count(f.Switches)), lock(fmt.Sprint(f.FailedWakes)),
			loop, queue, ms(f.LatencyP99MS)})
	}
	return rows
}

// writeWhy writes the second table, if any row has a timeline.
func writeWhy(w io.Writer, cmp *loadtest.Comparison) {
	rows := whyRows(cmp)
	if len(rows) == 0 {
		return
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, cells := range append([][]string{whyHead}, rows...) {
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	tw.Flush()
	fmt.Fprintln(w)
	writeTrimmed(w, buf.Bytes())
	fmt.Fprintln(w, strings.Replace(whyNote, "; request p99", ";\nrequest p99", 1))
}

// ms formats milliseconds; 0, a figure of no events, is "-".
func ms(f float64) string {
	switch {
	case f == 0:
		return "-"
	case f < 0.1:
		return fmt.Sprintf("%.1fµs", f*1e3)
	case f < 1:
		return fmt.Sprintf("%.3fms", f)
	}
	return fmt.Sprintf("%.1fms", f)
}
