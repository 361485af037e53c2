package report_test

import (
	"bytes"
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
