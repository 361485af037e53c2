package report_test

import (
	"os"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/report"
)

// A comparison, from compare.Run or read back with
// loadtest.ReadComparisonJSON, shown as the command shows it.
func ExampleTable() {
	cmp := &loadtest.Comparison{
		Conditions: loadtest.Conditions{Start: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), CPUs: 2, CPU: "AMD EPYC",
			OS: "linux", Arch: "amd64", Go: "go1.26.8", GOMAXPROCS: 2, Module: "(devel)"},
		Rows: []loadtest.Row{
			{Strategy: "perconn", Before: 96255, During: 60427, After: 85385, Kept: 0.628, LongAnswered: true, LongLatency: 969 * time.Millisecond},
			{Strategy: "loop", Before: 80751, During: 10, After: 108904, Kept: 0.0001, LongAnswered: true, LongLatency: 821 * time.Millisecond},
		},
	}
	report.Table(os.Stdout, cmp)
	// Output:
	// strategy  before/s  during/s  after/s   kept  long request  errors  note
	//    perconn    96,255    60,427   85,385  62.8%         969ms       0
	//       loop    80,751        10  108,904   0.0%         821ms       0
	// kept = during/s ÷ before/s: the share of the small requests' flow that survived the long request (the lecture's figure)
	// measured 2026-12-01T09:00:00Z, 2 × AMD EPYC, linux/amd64, go1.26.8, GOMAXPROCS 2, primetime (devel)
}
