package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/primetime-lab/primetime/loadtest"
)

// A claim is a sentence of the lecture, and the rows of a comparison that
// check it, with what each kept.
type claim struct {
	Said string
	Rows []string
}

// The lecture's claims that a comparison's rows can check, in its words.
const (
	claimJava  = "In Java would not see such a decline: shorter-running threads would be scheduled on idle CPUs."
	claimCores = "At the end of the day, additional CPU cores do not help because of the GIL."
	claimTask  = "Can substitute any CPU-intensive task here."
)

// claims returns the lecture's claims that cmp's rows check: the JVM's
// rows, and their Go rows, check Java's; a sweep of the CPUs checks the
// cores'; a task other than the prime task checks that any would do.
func claims(cmp *loadtest.Comparison) []claim {
	keptOf := func(r loadtest.Row) string { return r.FullLabel() + " " + kept(r.Kept, r.KeptMissing) }
	var out []claim
	var java []string
	for _, r := range cmp.Rows {
		if r.Runtime == "jvm" {
			java = append(java, keptOf(r))
			for _, g := range cmp.Rows {
				if g.Strategy == r.Strategy && g.Runtime == "" && g.GIL == 0 && g.PointLabel() == r.PointLabel() {
					java = append(java, keptOf(g))
				}
			}
		}
	}
	if len(java) > 0 {
		out = append(out, claim{Said: claimJava, Rows: java})
	}
	all := func() []string {
		var rows []string
		for _, r := range byStrategy(cmp.Rows) {
			rows = append(rows, keptOf(r))
		}
		return rows
	}
	if slices.ContainsFunc(cmp.Sweeps, func(s loadtest.Sweep) bool { return s.Name == "cpus" }) {
		out = append(out, claim{Said: claimCores, Rows: all()})
	}
	if cmp.Task != "" {
		out = append(out, claim{Said: claimTask + fmt.Sprintf(" (here, the task %s)", cmp.Task), Rows: all()})
	}
	return out
}

// line says a claim and its rows in one line.
func (c claim) line() string {
	return fmt.Sprintf("%q: %s", c.Said, strings.Join(c.Rows, ", "))
}
