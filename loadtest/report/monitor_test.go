package report_test

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/report"
)

func TestMonitorSaysWhenTheLongRequestFailedAndGroupsThousands(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	m := report.Monitor(&out)
	m(loadtest.Interval{Start: t0, End: t0.Add(time.Second), Answers: 37589, GeneratorCPU: 0.58, ServerCPU: 1.2}, nil)
	failed := loadtest.Event{Time: t0.Add(1500 * time.Millisecond), Kind: loadtest.LongFailed, Latency: 243 * time.Microsecond, Detail: "refused: ERR bad request"}
	m(loadtest.Interval{Start: t0.Add(time.Second), End: t0.Add(2 * time.Second), Answers: 1200, Errors: 1500, LongInFlight: true}, []loadtest.Event{failed})
	m(loadtest.Interval{Start: t0.Add(2 * time.Second), End: t0.Add(3 * time.Second), Answers: 10, LongInFlight: true}, nil)
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if assert.Len(t, lines, 4) {
		assert.Contains(t, string(lines[0]), "37,589/s  answers  37,589  errors    0")
		assert.Contains(t, string(lines[0]), "cpu: generator 0.58 cores, server 1.20 cores", "every figure has its unit")
		assert.Contains(t, string(lines[1]), "1.50s  !! long request failed after 243µs: refused: ERR bad request")
		assert.Contains(t, string(lines[2]), "errors 1,500")
		assert.Contains(t, string(lines[2]), "[long request failed]")
		assert.NotContains(t, string(lines[2]), "in flight")
		assert.Contains(t, string(lines[3]), "[long request in flight]")
	}
}

func TestTableShowsADashForAWindowThatWasNot(t *testing.T) {
	cmp := &loadtest.Comparison{Rows: []loadtest.Row{
		{Strategy: "serial", Before: 11390, During: 0, NoAfter: true, KeptMissing: "the long request was not answered before the run ended"},
		{Strategy: "perconn", Before: 96255, NoDuring: true, NoAfter: true, KeptMissing: "no long request was sent", Note: "no long request"},
	}}
	var out bytes.Buffer
	report.Table(&out, cmp)
	assert.Regexp(t, `(?m)^\s+serial\s+11,390\s+0\s+-\s+-\s+unanswered`, out.String())
	assert.Regexp(t, `(?m)^\s+perconn\s+96,255\s+-\s+-\s+-\s+unanswered\s+0\s+\[1\]$`, out.String())
	assert.Contains(t, out.String(), "\nkept = during/s ÷ before/s: the share of the small requests' flow that survived the long request", "kept is defined")
	assert.Contains(t, out.String(), "\n[1] no long request\n", "a note is under the table, by its number")
}

func TestTheDefaultTableFitsInAHundredAndTwentyColumns(t *testing.T) {
	littles := "Little's law: 3.4 small requests in flight on average for 4 clients answered: the generator kept its clients idle between requests, so that the load was not what the scenario says"
	cmp := &loadtest.Comparison{Idle: 10000}
	for _, s := range []string{"serial", "perconn", "pool:8", "loop", "loop+goroutines:2", "procpool:2", "loop+procs:2"} {
		cmp.Rows = append(cmp.Rows, loadtest.Row{Strategy: s, Before: 96255, During: 60427, After: 108904, Kept: 0.628,
			LongAnswered: true, LongLatency: 969 * time.Millisecond, Errors: 12345, IdleBytes: 10648, Note: "a new connection per request; " + littles})
	}
	cmp.Rows[3].Note = littles
	var out bytes.Buffer
	report.Table(&out, cmp)
	for line := range strings.SplitSeq(strings.TrimSuffix(out.String(), "\n"), "\n") {
		assert.LessOrEqual(t, utf8.RuneCountInString(line), 120, "%q", line)
	}
	assert.Contains(t, out.String(), "\n[2] Little's law", "the notes are under the table, each once")
}

func TestAKneeSearchShowsEachProbe(t *testing.T) {
	var out bytes.Buffer
	p := report.NewProgress(&out)
	p.Knee("perconn", 12, 2*time.Second, 10*time.Millisecond, 0.95)
	p.Probe("perconn", loadtest.KneePoint{Rate: 32000, Achieved: 32151, P99: 35600 * time.Microsecond})
	p.Probe("perconn", loadtest.KneePoint{Rate: 1000, Achieved: 999, P99: 6240 * time.Microsecond, KeptUp: true})
	assert.Contains(t, out.String(), "knee: up to 12 probes of 2s at open-loop rates; a rate is kept up with when 95% of it is answered, p99 under 10ms")
	assert.Contains(t, out.String(), "32,000/s asked: 32,151/s answered, p99 35.6ms, fell behind")
	assert.Contains(t, out.String(), "1,000/s asked: 999/s answered, p99 6.24ms, kept up")
}

func TestADiffOfOneRunASideShowsTheChangesAloneAndTheRowsOfOneSide(t *testing.T) {
	old := &loadtest.Comparison{Rows: []loadtest.Row{{Strategy: "perconn", Before: 19269, Kept: .5}, {Strategy: "serial", Before: 11000}}}
	cur := &loadtest.Comparison{Rows: []loadtest.Row{{Strategy: "perconn", Before: 37667, Kept: .6}, {Strategy: "loop", Before: 80000}}}
	var out bytes.Buffer
	require.NoError(t, report.Diff(&out, old, cur))
	assert.Regexp(t, `(?m)^\s*perconn\s+19,269\s+37,667\s+\+95\.5%\s+50\.0%\s+60\.0%\s+\+10\.0 pts\s*$`, out.String(), "the change, not ~")
	assert.Contains(t, out.String(), "1 of 1 rows ran under 4 times on a side: their changes are shown alone, and may be noise; significance needs compare\n    -count 5 or more")
	assert.Contains(t, out.String(), "\nonly in old: serial\n")
	assert.Contains(t, out.String(), "\nonly in new: loop\n")
	assert.NotContains(t, out.String(), "~:", "no row was tested")
}

func TestTheTableAndThePageSayWhichClaimOfTheLectureARowChecks(t *testing.T) {
	at := func(cpus string) []loadtest.Setting { return []loadtest.Setting{{Name: "cpus", Value: cpus}} }
	cmp := &loadtest.Comparison{
		Task:   "sha256",
		Sweeps: []loadtest.Sweep{{Name: "cpus", Values: []string{"1", "2"}}},
		Rows: []loadtest.Row{
			{Strategy: "perconn", Point: at("1"), Kept: .004},
			{Strategy: "perconn", Runtime: "jvm", Point: at("1"), Kept: .85},
			{Strategy: "perconn", Point: at("2"), Kept: .6},
			{Strategy: "perconn", Runtime: "jvm", Point: at("2"), Kept: 1.05},
			{Strategy: "perconn", Runtime: "jvm-virtual", Point: at("2"), Kept: .9},
		},
		Left: []string{"no jvm-virtual rows: virtual threads need Java 21 or later"},
	}
	var out bytes.Buffer
	require.NoError(t, report.Table(&out, cmp))
	text := strings.ReplaceAll(out.String(), "\n    ", " ")
	assert.Contains(t, text, `the lecture: "In Java would not see such a decline: shorter-running threads would be scheduled on idle CPUs.": perconn [cpus=1] 0.4%, perconn [cpus=2] 60.0%, perconn jvm [cpus=1] 85.0%, perconn jvm [cpus=2] 105.0%, perconn jvm-virtual [cpus=2] 90.0%`, "each JVM row and its Go row, in the table's order")
	assert.Contains(t, text, `the lecture: "At the end of the day, additional CPU cores do not help because of the GIL.": perconn [cpus=1] 0.4%`)
	assert.Contains(t, text, `the lecture: "Can substitute any CPU-intensive task here. (here, the task sha256)"`)
	assert.Contains(t, text, "\nleft out: no jvm-virtual rows: virtual threads need Java 21 or later\n")
	var page bytes.Buffer
	require.NoError(t, report.HTML(&page, cmp))
	assert.Contains(t, page.String(), "<h2>The lecture's claims</h2>")
	assert.Contains(t, page.String(), "<q>In Java would not see such a decline: shorter-running threads would be scheduled on idle CPUs.</q> perconn [cpus=1] 0.4%; perconn [cpus=2] 60.0%; perconn jvm [cpus=1] 85.0%")
	assert.Contains(t, page.String(), "Left out: no jvm-virtual rows: virtual threads need Java 21 or later.")
}

func TestTheSummarySaysHowManyConnectionsTheServerClosed(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, report.Summary(&out, &loadtest.Result{Summary: loadtest.Summary{Answers: 1200, Closed: 1200}}))
	assert.Contains(t, out.String(), "\nthe server closed 1,200 connections after an answer (Connection: close); each client opened another\n")
	out.Reset()
	require.NoError(t, report.Summary(&out, &loadtest.Result{Summary: loadtest.Summary{Answers: 1200}}))
	assert.NotContains(t, out.String(), "closed")
}
