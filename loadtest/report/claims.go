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

// claims returns the lecture's claims that cmp's rows check, each row with
// what it kept, in the table's order. They are taken from the rows, not
// from the file's own list of claims.
func claims(cmp *loadtest.Comparison) []claim {
	var out []claim
	for _, c := range cmp.LectureClaims() {
		cl := claim{Said: c.Said}
		for _, r := range byStrategy(cmp.Rows) {
			if slices.Contains(c.Rows, r.FullLabel()) {
				cl.Rows = append(cl.Rows, r.FullLabel()+" "+kept(r.Kept, r.KeptMissing))
			}
		}
		out = append(out, cl)
	}
	return out
}

// line says a claim and its rows in one line.
func (c claim) line() string {
	return fmt.Sprintf("%q: %s", c.Said, strings.Join(c.Rows, ", "))
}
