package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/report"
)

func TestASweepsTableGroupsAStrategysPointsAndSetsPythonModeBesideCPython(t *testing.T) {
	at := func(longs string) []loadtest.Setting { return []loadtest.Setting{{Name: "longs", Value: longs}} }
	gil := 5 * time.Millisecond
	cmp := &loadtest.Comparison{
		Scenario: loadtest.Scenario{Interval: time.Second},
		Sweeps:   []loadtest.Sweep{{Name: "longs", Values: []string{"0", "1"}}},
		Rows: []loadtest.Row{ // in the order they ran: point by point
			{Strategy: "perconn", GIL: gil, Point: at("0"), Before: 40000, P99: time.Millisecond, NoLong: true},
			{Strategy: "perconn", GIL: gil, Runtime: "cpython", Point: at("0"), Before: 20000, P99: 2 * time.Millisecond, NoLong: true},
			{Strategy: "perconn", GIL: gil, Point: at("1"), Before: 600, P99: 24 * time.Millisecond, NoLong: true},
			{Strategy: "perconn", GIL: gil, Runtime: "cpython", Point: at("1"), Before: 400, P99: 20 * time.Millisecond, NoLong: true},
		},
	}
	var buf bytes.Buffer
	require.NoError(t, report.Table(&buf, cmp))
	var lines [][]string
	for _, l := range strings.Split(buf.String(), "\n") {
		lines = append(lines, strings.Fields(l))
	}
	require.GreaterOrEqual(t, len(lines), 10)
	assert.Equal(t, []string{"strategy", "longs", "p50", "p99", "before/s"}, lines[0][:5])
	assert.Equal(t, []string{"perconn", "gil=5ms", "0", "0", "1ms", "40,000"}, lines[1][:6], "a strategy's points together")
	assert.Equal(t, []string{"perconn", "gil=5ms", "1", "0", "24ms", "600"}, lines[2][:6])
	assert.Equal(t, []string{"perconn", "cpython", "si=5ms", "0", "0", "2ms", "20,000"}, lines[3][:7])
	assert.Equal(t, "-", lines[1][9], "no long request: no latency of it")
	assert.Equal(t, []string{"Python", "mode", "against", "CPython", "longs"}, lines[6][:5])
	assert.Equal(t, []string{"perconn", "0", "40,000", "20,000", "2.00x", "1ms", "2ms", "0.50x"}, lines[7])
	assert.Equal(t, []string{"perconn", "1", "600", "400", "1.50x", "24ms", "20ms", "1.20x"}, lines[8])
}

func TestThePageDrawsASweepsCurvesAndEachKnee(t *testing.T) {
	at := func(gil string) []loadtest.Setting { return []loadtest.Setting{{Name: "gil", Value: gil}} }
	cmp := &loadtest.Comparison{
		Scenario: loadtest.Scenario{Interval: time.Second},
		Sweeps:   []loadtest.Sweep{{Name: "gil", Values: []string{"5ms", "10µs"}}},
		Rows: []loadtest.Row{
			{Strategy: "perconn", GIL: 5 * time.Millisecond, Point: at("5ms"), Before: 600, P99: 24 * time.Millisecond, NoLong: true},
			{Strategy: "perconn", GIL: 5 * time.Millisecond, Runtime: "cpython", Point: at("5ms"), Before: 500, NoLong: true},
			{Strategy: "perconn", GIL: 10 * time.Microsecond, Point: at("10µs"), Before: 2000, NoLong: true,
				Knee: &loadtest.Knee{Rate: 9750, Points: []loadtest.KneePoint{{Rate: 8000, Achieved: 8000, P99: time.Millisecond, KeptUp: true}, {Rate: 16000, Achieved: 12000, P99: 50 * time.Millisecond}}}},
			{Strategy: "perconn", GIL: 10 * time.Microsecond, Runtime: "cpython", Point: at("10µs"), Before: 10000, NoLong: true},
		},
	}
	var buf bytes.Buffer
	require.NoError(t, report.HTML(&buf, cmp))
	page := buf.String()
	const tag = `<script id="sweeps-data" type="application/json">`
	start := strings.Index(page, tag)
	require.Positive(t, start, "the page has curves")
	end := strings.Index(page[start:], "</script>")
	var data struct {
		Name  string    `json:"name"`
		Log   bool      `json:"log"`
		X     []float64 `json:"x"`
		Lines []struct {
			Label  string     `json:"label"`
			Dash   bool       `json:"dash"`
			Before []*float64 `json:"before"`
		} `json:"lines"`
		Knees []struct {
			Label  string       `json:"label"`
			Knee   float64      `json:"knee"`
			Points [][3]float64 `json:"points"`
		} `json:"knees"`
	}
	require.NoError(t, json.Unmarshal([]byte(page[start+len(tag):start+end]), &data))
	assert.Equal(t, "gil", data.Name)
	assert.True(t, data.Log, "a switch interval's axis is a log scale")
	assert.Equal(t, []float64{5000, 10}, data.X, "in µs")
	require.Len(t, data.Lines, 2, "one line for Python mode, one for CPython, across the intervals")
	assert.Equal(t, "perconn Python mode", data.Lines[0].Label)
	assert.Equal(t, "perconn cpython", data.Lines[1].Label)
	assert.True(t, data.Lines[1].Dash)
	assert.Equal(t, 600.0, *data.Lines[0].Before[0])
	assert.Equal(t, 10000.0, *data.Lines[1].Before[1])
	require.Len(t, data.Knees, 1)
	assert.Equal(t, 9750.0, data.Knees[0].Knee)
	assert.Equal(t, [3]float64{12000, 50, 0}, data.Knees[0].Points[1])
}

func TestTheTerminalDrawsASweepsCurves(t *testing.T) {
	at := func(longs string) []loadtest.Setting { return []loadtest.Setting{{Name: "longs", Value: longs}} }
	cmp := &loadtest.Comparison{
		Scenario: loadtest.Scenario{Interval: time.Second},
		Sweeps:   []loadtest.Sweep{{Name: "longs", Values: []string{"0", "1", "2"}}},
		Rows: []loadtest.Row{
			{Strategy: "perconn", Point: at("0"), Before: 40000, P99: time.Millisecond},
			{Strategy: "perconn", Point: at("1"), Before: 4000, P99: 10 * time.Millisecond},
			{Strategy: "perconn", Point: at("2"), Before: 400, P99: 100 * time.Millisecond},
		},
	}
	var buf bytes.Buffer
	require.NoError(t, report.Chart(&buf, cmp))
	assert.Contains(t, buf.String(), "answers/s and p99 at longs = 0, 1, 2, each line on its own log scale\nperconn |█▅▁| 40,000 to 400/s  p99 |▁▅█|\n")
}
