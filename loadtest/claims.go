package loadtest

import "slices"

// A Claim is a sentence of the lecture that some of a comparison's rows
// check.
type Claim struct {
	// Said is the lecture's words.
	Said string `json:"said"`
	// Rows are the full labels (Row.FullLabel) of the rows that check it.
	Rows []string `json:"rows"`
}

// The lecture's claims that a comparison's rows can check, in its words.
const (
	ClaimJava  = "In Java would not see such a decline: shorter-running threads would be scheduled on idle CPUs."
	ClaimCores = "At the end of the day, additional CPU cores do not help because of the GIL."
	ClaimTask  = "Can substitute any CPU-intensive task here."
)

// LectureClaims returns the lecture's claims that c's rows check: the
// JVM's rows, and the Go rows of their strategies, check Java's; a sweep
// of the CPUs checks the cores'; a task other than the prime task checks
// that any task would do.
func (c *Comparison) LectureClaims() []Claim {
	var out []Claim
	var java []string
	for _, r := range c.Rows {
		if r.Runtime != "jvm" && r.Runtime != "jvm-virtual" {
			continue
		}
		java = append(java, r.FullLabel())
		for _, g := range c.Rows {
			if g.Strategy == r.Strategy && g.Runtime == "" && g.GIL == 0 && g.PointLabel() == r.PointLabel() && !slices.Contains(java, g.FullLabel()) {
				java = append(java, g.FullLabel())
			}
		}
	}
	if len(java) > 0 {
		out = append(out, Claim{Said: ClaimJava, Rows: java})
	}
	all := func() []string {
		var rows []string
		for _, r := range c.Rows {
			rows = append(rows, r.FullLabel())
		}
		return rows
	}
	if slices.ContainsFunc(c.Sweeps, func(s Sweep) bool { return s.Name == "cpus" }) {
		out = append(out, Claim{Said: ClaimCores, Rows: all()})
	}
	if c.Task != "" && c.Task != "prime" {
		out = append(out, Claim{Said: ClaimTask + " (here, the task " + c.Task + ")", Rows: all()})
	}
	return out
}
