package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/report"
)

// writeTimeline writes a timeline in which a long thread holds the lock
// for two 5 ms slices, each ended by a small thread's drop request.
func writeTimeline(t *testing.T, path string) {
	t.Helper()
	var now int64
	r := timeline.New(timeline.Options{Anchor: "10000", Clock: func() int64 { return now }})
	long, small := r.Lane("conn 1", "connection"), r.Lane("conn 2", "connection")
	arrived := long.Arrive([]byte("10000"))
	for range 2 {
		hold, wait := now, now
		now += int64(5 * time.Millisecond)
		small.Instant(timeline.DropRequest, []byte("1"))
		long.Hold(hold, long.Now(), timeline.Dropped, []byte("10000"))
		small.Span(timeline.Wait, wait, []byte("1"))
		hold = now
		now += int64(time.Millisecond)
		small.Hold(hold, small.Now(), timeline.Done, []byte("1"))
	}
	long.Span(timeline.Request, arrived, []byte("10000"))
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, r.WriteTrace(f, timeline.Meta{Process: "perconn gil=5ms"}))
	require.NoError(t, f.Close())
}

// lanesData returns the lane charts' data of a page.
func lanesData(t *testing.T, page string) []map[string]any {
	t.Helper()
	const tag = `<script id="lanes-data" type="application/json">`
	start := strings.Index(page, tag)
	require.Positive(t, start, "the page has lanes")
	end := strings.Index(page[start:], "</script>")
	var data struct {
		Rows []map[string]any `json:"rows"`
	}
	require.NoError(t, json.Unmarshal([]byte(page[start+len(tag):start+end]), &data))
	return data.Rows
}

func TestThePageDrawsTheLanesOfTheRowsWithATimeline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "perconn-gil=5ms.json")
	writeTimeline(t, path)
	tr, err := timeline.ReadTraceFile(path)
	require.NoError(t, err)
	figures := tr.Figures("10000")

	sc := loadtest.Scenario{Interval: time.Second, Duration: 3 * time.Second, Clients: 4, Small: "1", Long: "10000", LongAfter: time.Second}
	cmp := &loadtest.Comparison{Scenario: sc, Rows: []loadtest.Row{
		{Strategy: "perconn", Before: 1000},
		{Strategy: "perconn", GIL: 5 * time.Millisecond, Before: 900, Trace: path, Timeline: &figures},
		{Strategy: "perconn", Runtime: "cpython", Before: 800, Trace: filepath.Join(dir, "gone.json")},
	}}
	var buf bytes.Buffer
	require.NoError(t, report.HTML(&buf, cmp))
	page := buf.String()
	rows := lanesData(t, page)
	require.Len(t, rows, 2, "the rows with a timeline")
	assert.Equal(t, "perconn gil=5ms", rows[0]["label"])
	assert.Equal(t, []any{"conn 1 (long)", "conn 2"}, rows[0]["lanes"], "the long request's lane first")
	assert.Equal(t, true, rows[0]["lock"])
	events := rows[0]["events"].([]any)
	holds := 0
	for _, e := range events {
		e := e.([]any)
		if e[1] == 0.0 && e[4] == 7.0 { // a hold of the long request's, ended by a drop request
			holds++
			assert.Equal(t, 5000.0, e[3], "µs")
		}
	}
	assert.Equal(t, 2, holds)
	assert.Contains(t, rows[1]["note"], "could not be read")
	assert.Contains(t, rows[1]["note"], "CPython's lock cannot be seen")
	assert.Contains(t, page, "<h2>While the long request ran</h2>")
	assert.Contains(t, page, "<td>83.3%</td>", "the long thread's hold share: 10 ms of 12")

	buf.Reset()
	require.NoError(t, report.Table(&buf, cmp))
	table := buf.String()
	assert.Contains(t, table, "while the long request ran")
	line := ""
	for _, l := range strings.Split(table, "\n") {
		if strings.Contains(l, "perconn gil=5ms") && strings.Contains(l, "%") && !strings.Contains(l, "900") {
			line = l
		}
	}
	assert.Equal(t, []string{"perconn", "gil=5ms", "83.3%", "16.7%", "5.0ms", "1.0ms", "5.0ms", "5.0ms", "-", "167", "250", "0", "-", "-", "-"}, strings.Fields(line))
}

func TestAPageWithoutTimelinesHasNoLanes(t *testing.T) {
	cmp := &loadtest.Comparison{Scenario: loadtest.Scenario{Interval: time.Second}, Rows: []loadtest.Row{{Strategy: "perconn"}}}
	var buf bytes.Buffer
	require.NoError(t, report.HTML(&buf, cmp))
	assert.NotContains(t, buf.String(), "lanes-data")
	assert.NotContains(t, buf.String(), "While the long request ran")
	buf.Reset()
	require.NoError(t, report.Table(&buf, cmp))
	assert.NotContains(t, buf.String(), "while the long request ran")
}

func TestLanesWritesThePageOfTheLanesAlone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "perconn-gil=5ms.json")
	writeTimeline(t, path)
	cmp := &loadtest.Comparison{Scenario: loadtest.Scenario{Long: "10000"}, Rows: []loadtest.Row{
		{Strategy: "perconn", GIL: 5 * time.Millisecond, Trace: path},
		{Strategy: "loop", Trace: filepath.Join(dir, "gone.json")},
	}}
	var buf bytes.Buffer
	require.NoError(t, report.Lanes(&buf, cmp))
	page := buf.String()
	rows := lanesData(t, page)
	require.Len(t, rows, 2)
	assert.Equal(t, "perconn gil=5ms", rows[0]["label"])
	assert.Equal(t, []any{"conn 1 (long)", "conn 2"}, rows[0]["lanes"], "drawn as the report draws them")
	assert.Contains(t, rows[1]["note"], "could not be read")
	assert.Contains(t, page, `<p class="key">`, "with the key")
	assert.NotContains(t, page, "A panel per strategy", "and nothing else of the report")
}
