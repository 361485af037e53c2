package report_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/report"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// checkPage checks a page's structure: uPlot inline once, every label in
// the charts' data and in the table, nothing loaded from the network.
func checkPage(t *testing.T, page string, labels ...string) {
	t.Helper()
	assert.Equal(t, 1, strings.Count(page, "var uPlot="), "the charting library, inline, once")
	start := strings.Index(page, `<script id="data" type="application/json">`)
	require.Positive(t, start)
	end := strings.Index(page[start:], "</script>")
	var data struct {
		X      []float64 `json:"x"`
		Series []struct {
			Label string     `json:"label"`
			Rate  []*float64 `json:"rate"`
		} `json:"series"`
	}
	require.NoError(t, json.Unmarshal([]byte(page[start+len(`<script id="data" type="application/json">`):start+end]), &data))
	require.Len(t, data.Series, len(labels))
	for i, label := range labels {
		assert.Equal(t, label, data.Series[i].Label)
		assert.Len(t, data.Series[i].Rate, len(data.X))
		assert.Contains(t, page, "<td>"+label+"</td>")
	}
	for _, load := range []string{`src="http`, `href="http`, `url(http`, `src="//`, `href="//`, "@import"} {
		assert.NotContains(t, page, load, "the page loads nothing from the network")
	}
}

// storedComparison is a comparison of four rows, as compare saves one.
func storedComparison() *loadtest.Comparison {
	start := time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)
	result := func(label string) *loadtest.Result {
		r := &loadtest.Result{Label: label, Scenario: loadtest.Scenario{Interval: time.Second, Duration: 3 * time.Second, Clients: 4, Small: "1", Long: "10000", LongAfter: time.Second}, Start: start, End: start.Add(3 * time.Second)}
		for i := range 3 {
			r.Intervals = append(r.Intervals, loadtest.Interval{Start: start.Add(time.Duration(i) * time.Second), End: start.Add(time.Duration(i+1) * time.Second), Answers: 1000 * (i + 1),
				Latency: loadtest.Percentiles{P50: time.Millisecond, P99: 5 * time.Millisecond}})
		}
		r.Events = []loadtest.Event{{Time: start.Add(time.Second), Kind: loadtest.LongSent}, {Time: start.Add(2 * time.Second), Kind: loadtest.LongAnswered}}
		return r
	}
	cmp := &loadtest.Comparison{
		Scenario: result("").Scenario, Idle: 100, Python: "Python 3.11.7",
		Rows: []loadtest.Row{
			{Strategy: "perconn", Before: 1000, IdleBytes: 10000, LongAnswered: true},
			{Strategy: "perconn", GIL: 5 * time.Millisecond, Before: 900, IdleBytes: 10500},
			{Strategy: "perconn", Runtime: "cpython", GIL: 5 * time.Millisecond, Before: 800, KeptMissing: "the long request failed"},
			{Strategy: "loop", Before: 1200, IdleBytes: 1000},
		},
		Results: []*loadtest.Result{result("perconn"), result("perconn gil=5ms"), result("perconn cpython si=5ms"), result("loop")},
	}
	return cmp
}

func TestThePageOfAStoredComparison(t *testing.T) {
	cmp := storedComparison()
	var buf bytes.Buffer
	require.NoError(t, report.HTML(&buf, cmp))
	page := buf.String()
	checkPage(t, page, "perconn", "perconn gil=5ms", "perconn cpython si=5ms", "loop")
	assert.Equal(t, 2, strings.Count(page, "<tbody>"), "perconn's three rows in one group, loop's in another")
	assert.Equal(t, 2, strings.Count(page, `class="variant"`), "the Python-mode and CPython rows under their Go row")
	assert.Contains(t, page, `<span class="bar" style="width:100%"></span> 10,500 B`, "the largest idle bar")
	assert.Contains(t, page, "CPython rows: Python 3.11.7")
	assert.Contains(t, page, `"long":[1,2]`, "the long request's span, in seconds into the run")

	assert.Contains(t, page, `<p class="conditions">Measured `)
	assert.Contains(t, page, "kept is during divided by before")
	assert.Contains(t, page, "<th>strategy</th>")
	colors := regexp.MustCompile(`style="--c: (#[0-9a-f]{6})"`).FindAllStringSubmatch(page, -1)
	require.Len(t, colors, 4)
	assert.Equal(t, []string{"#0072b2", "#55a1cc", "#aad0e5", "#e69f00"}, []string{colors[0][1], colors[1][1], colors[2][1], colors[3][1]},
		"in the table, perconn's Python-mode and CPython rows in perconn's hue, lighter; loop in its own")

	// A panel per strategy: a row's runs in its strategy's hue, each kind
	// of row in a line style of its own, its figures and a link to its
	// line of the table.
	assert.Equal(t, 2, strings.Count(page, `<div class="panel"`))
	assert.Contains(t, page, `"label":"perconn","color":"#0072b2","group":0,"rate"`)
	assert.Contains(t, page, `"label":"perconn gil=5ms","color":"#0072b2","group":0,"dash":"dash"`)
	assert.Contains(t, page, `"label":"perconn cpython si=5ms","color":"#0072b2","group":0,"dash":"dot"`)
	assert.Contains(t, page, `"label":"loop","color":"#e69f00","group":1,"rate"`)
	assert.Contains(t, page, `<a href="#row-3">perconn cpython si=5ms</a>: kept <b>-</b>`)
	assert.Contains(t, page, `<tr id="row-3" class="variant"`)
	assert.Contains(t, page, `"max":[`, "the slowest request of each interval, where a stall shows")

	buf.Reset()
	res := *cmp.Results[0]
	res.Label = ""
	res.Scenario.Addr = "127.0.0.1:25000"
	require.NoError(t, report.RunHTML(&buf, &res))
	run := buf.String()
	checkPage(t, run, "127.0.0.1:25000")
	assert.Contains(t, run, "<th>server</th>", "a run's row is its server, not a strategy")
	assert.Contains(t, run, "One run against the server at 127.0.0.1:25000: 4 clients send")
	assert.NotContains(t, run, "Python-mode", "no words of the comparison's page")
	assert.Contains(t, run, `<p class="conditions">Measured `)
}
