package report

import (
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
)

// pageSweep is a comparison's sweep as the page's script charts it: the
// swept values on x (numbers, in µs for gil), and a line per row label and
// value of the other sweep, if any.
type pageSweep struct {
	Name  string           `json:"name"`
	Unit  string           `json:"unit"`
	Log   bool             `json:"log"`
	X     []float64        `json:"x"`
	Lines []pageSweepLine  `json:"lines"`
	Knees []pageSweepKnees `json:"knees,omitempty"`
}

// pageSweepLine is one line of a sweep's charts: a figure per x.
type pageSweepLine struct {
	Label  string     `json:"label"`
	Color  string     `json:"color"`
	Dash   bool       `json:"dash"`
	Before []*float64 `json:"before"`
	P50    []*float64 `json:"p50"`
	P99    []*float64 `json:"p99"`
	Kept   []*float64 `json:"kept"`
}

// pageSweepKnees is a row's knee search: each probe's achieved rate and
// p99 in ms, and the knee.
type pageSweepKnees struct {
	Label  string       `json:"label"`
	Color  string       `json:"color"`
	Points [][3]float64 `json:"points"` // achieved, p99 ms, 1 if kept up
	Knee   float64      `json:"knee"`
}

// sweepNumber reads a swept value as a number for the x axis: a switch
// interval in µs, anything else as it is (a request that is not a number
// is its position).
func sweepNumber(name, value string, i int) float64 {
	if name == "gil" {
		d, _ := time.ParseDuration(value)
		return float64(d) / float64(time.Microsecond)
	}
	f, err := strconv.ParseFloat(value, 64)
	if err != nil {
		return float64(i)
	}
	return f
}

// sweepsOf lays out cmp's first sweep for the charts, and every row's
// knee search; nil without either.
func sweepsOf(cmp *loadtest.Comparison) *pageSweep {
	colors := strategyColors(cmp)
	var ps pageSweep
	if len(cmp.Sweeps) > 0 {
		sw := cmp.Sweeps[0]
		ps.Name, ps.Log = sw.Name, sw.Name == "rate" || sw.Name == "gil"
		ps.Unit = map[string]string{"gil": "µs", "rate": "requests/s"}[sw.Name]
		index := map[string]int{}
		for i, v := range sw.Values {
			index[v] = i
			ps.X = append(ps.X, sweepNumber(sw.Name, v, i))
		}
		lines, hues := map[string]*pageSweepLine{}, map[string]int{}
		var order []string
		for _, r := range cmp.Rows {
			if len(r.Point) == 0 {
				continue
			}
			i, ok := index[r.Point[0].Value]
			if !ok {
				continue
			}
			key := lineLabel(r, ps.Name)
			color := colors[key]
			if len(r.Point) > 1 {
				// In a grid, a hue per strategy and value of the other
				// sweep; its CPython line lighter.
				other := " " + r.Point[1].Name + "=" + r.Point[1].Value
				key = lineLabel(r, r.Point[1].Name) + other
				hue := r.Strategy + other
				if _, ok := hues[hue]; !ok {
					hues[hue] = len(hues)
				}
				step := 0
				if r.Runtime != "" {
					step = 1
				}
				color = shade(palette[hues[hue]%len(palette)], step)
			}
			l := lines[key]
			if l == nil {
				n := len(ps.X)
				l = &pageSweepLine{Label: key, Color: color, Dash: r.Runtime != "",
					Before: make([]*float64, n), P50: make([]*float64, n), P99: make([]*float64, n), Kept: make([]*float64, n)}
				lines[key] = l
				order = append(order, key)
			}
			before, p50, p99 := r.Before, millis(r.P50), millis(r.P99)
			l.Before[i], l.P50[i], l.P99[i] = &before, &p50, &p99
			if r.KeptMissing == "" && !r.NoLong {
				kept := 100 * r.Kept
				l.Kept[i] = &kept
			}
		}
		for _, k := range order {
			ps.Lines = append(ps.Lines, *lines[k])
		}
	}
	for _, r := range cmp.Rows {
		if r.Knee == nil {
			continue
		}
		k := pageSweepKnees{Label: r.FullLabel(), Color: colors[lineLabel(r, ps.Name)], Knee: r.Knee.Rate}
		for _, p := range r.Knee.Points {
			keptUp := 0.0
			if p.KeptUp {
				keptUp = 1
			}
			k.Points = append(k.Points, [3]float64{p.Achieved, millis(p.P99), keptUp})
		}
		ps.Knees = append(ps.Knees, k)
	}
	if len(ps.Lines) == 0 && len(ps.Knees) == 0 {
		return nil
	}
	return &ps
}

// lineLabel names a row's line in a sweep of name: its label, or for a
// sweep of the switch interval, which the label holds, its strategy in
// Python mode or under CPython.
func lineLabel(r loadtest.Row, name string) string {
	if name != "gil" || r.GIL == 0 {
		return r.Label()
	}
	if r.Runtime != "" {
		return r.Strategy + " " + r.Runtime
	}
	return r.Strategy + " Python mode"
}

// millis converts a duration to milliseconds.
func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// sweepsJS draws the sweep's charts (answers per second, p50 and p99, kept,
// against the swept value) and each knee search's latency-throughput curve.
var sweepsJS = strings.TrimSpace(`
(function () {
  const d = JSON.parse(document.getElementById("sweeps-data").textContent);
  const box = document.getElementById("sweeps");
  const width = () => Math.max(400, document.body.clientWidth);
  const num = (v, unit) => v == null ? "-" : v.toLocaleString(undefined, {maximumFractionDigits: v < 10 ? 3 : 0}) + unit;
  const charts = [];
  function chart(title, yLabel, key, logY, unit) {
    const div = document.createElement("div"); div.className = "chart";
    const h = document.createElement("h3"); h.textContent = title; box.appendChild(h); box.appendChild(div);
    const series = [{label: d.name, value: (u, v) => num(v, " " + d.unit)}].concat(d.lines.map(l => ({
      label: l.label, stroke: l.color, width: 1.5, dash: l.dash ? [6, 4] : undefined, points: {show: true}, spanGaps: true,
      value: (u, v) => num(v, unit)})));
    charts.push(new uPlot({width: width(), height: 300, scales: {x: {time: false, distr: d.log ? 3 : 1}, y: {distr: logY ? 3 : 1}},
      axes: [{label: d.name + (d.unit ? " (" + d.unit + ")" : "")}, {label: yLabel, size: 80}], series},
      [d.x].concat(d.lines.map(l => l[key])), div));
  }
  if (d.lines && d.lines.length) {
    chart("Answers per second", "answers/s", "before", false, "/s");
    chart("p50 latency", "ms", "p50", true, " ms");
    chart("p99 latency", "ms", "p99", true, " ms");
    if (d.lines.some(l => l.kept.some(v => v != null))) chart("Kept", "%", "kept", false, "%");
  }
  (d.knees || []).forEach(k => {
    const pts = k.points.slice().sort((a, b) => a[0] - b[0]);
    const div = document.createElement("div"); div.className = "chart";
    const h = document.createElement("h3"); h.textContent = k.label + ": knee at " + num(k.knee, "/s"); box.appendChild(h); box.appendChild(div);
    const mark = u => {
      const x = u.valToPos(k.knee, "x", true), ctx = u.ctx;
      ctx.strokeStyle = "#c00000"; ctx.setLineDash([4, 4]); ctx.beginPath();
      ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke(); ctx.setLineDash([]);
    };
    charts.push(new uPlot({width: width(), height: 260, scales: {x: {time: false}, y: {distr: 3}}, hooks: {draw: [mark]},
      axes: [{label: "achieved answers/s"}, {label: "p99, ms", size: 80}],
      series: [{label: "achieved", value: (u, v) => num(v, "/s")}, {label: "p99", stroke: k.color, width: 1.5, points: {show: true}, value: (u, v) => num(v, " ms")}]},
      [pts.map(p => p[0]), pts.map(p => p[1])], div));
  });
  box.dataset.charts = charts.length;
  addEventListener("resize", () => charts.forEach(u => u.setSize({width: width(), height: u.height})));
})();
`)
