package report

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/internal/chart"
	"github.com/primetime-lab/primetime/loadtest"
)

// uPlot and the palette are internal/chart's, shared with the lab's page.
var (
	uplotJS, uplotCSS = chart.UplotJS, chart.UplotCSS
	palette           = chart.Palette
)

// pageRow is one row of a page's table.
type pageRow struct {
	Label, Before, During, After, Kept, Long, Idle, Note string
	Errors                                               int
	// Keys are the values the table sorts by, one per column.
	Keys []float64
	// Variant is true for a Python-mode or CPython row, shown under its
	// Go row.
	Variant bool
	// Color is the row's colour in the lanes: its Go row's hue, lighter
	// for each Python-mode or CPython row under it.
	Color template.CSS
	// ID names the row's line of the table, for its panel's link; Dash is
	// its line's style in its panel: "" for Go, "dash" for Python mode,
	// "dot" for CPython.
	ID, Dash string
}

// pageGroup is a strategy's rows: Go, Python mode, CPython. Its panel
// draws them in Hue, each in its own style.
type pageGroup struct {
	Rows []pageRow
	Hue  string
}

// pageSeries is one run's series, as the page's script charts them: in
// its strategy's panel (Group), in its row's style (Dash).
type pageSeries struct {
	Label string     `json:"label"`
	Color string     `json:"color"`
	Group int        `json:"group"`
	Dash  string     `json:"dash,omitempty"`
	Rate  []*float64 `json:"rate"`
	P50   []*float64 `json:"p50"`
	P99   []*float64 `json:"p99"`
	Max   []*float64 `json:"max"`
	// Long is when the long request was sent and answered, in seconds
	// into the run; nil if it was not sent.
	Long []float64 `json:"long,omitempty"`
}

// pageIdle is a bar of the memory per idle connection.
type pageIdle struct {
	Label, Bytes string
	Width        float64 // percent of the largest
}

var page = template.Must(template.Must(template.New("page").Parse(lanesSection)).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>{{.UplotCSS}}</style>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; max-width: 1600px; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: .25em .75em; text-align: right; }
table.why th { cursor: auto; }
th { cursor: pointer; border-bottom: 2px solid #999; user-select: none; }
th:first-child, td:first-child, th:last-child, td.note { text-align: left; }
tbody { border-bottom: 1px solid #ccc; }
tr.variant td:first-child { padding-left: 2em; color: #555; }
td:first-child { box-shadow: inset 5px 0 var(--c); }
.u-legend .u-series:first-child { display: none; }
.conditions { color: #555; }
.chart { margin: 1em 0 2em; }
.bar { height: 1.1em; background: #5b8fd6; display: inline-block; vertical-align: middle; }
.bars td { border: 0; }
{{.LanesCSS}}
.panel { border-top: 1px solid #ccc; padding: .5em 0 1em; }
.panel h3 { margin: .3em 0; font-size: 16px; }
.panel .figures { margin: .2em 0; }
.panel .figures a { color: inherit; }
.panel .figures svg { vertical-align: middle; margin-right: .4em; }
.panel .charts { display: flex; flex-wrap: wrap; gap: 1em; }
tr:target { outline: 2px solid #999; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Description}}</p>
<p class="conditions">Measured {{.Conditions}}.</p>
<h2>A panel per strategy</h2>
<p>Each panel is one strategy, every panel on the same axes: on the left its small requests' answers per second in each interval, on the right their latency, log scale: p99 in the line's colour, and paler the slowest request of the interval (max), where a stall shows. The grey band is the long request in flight; kept is the answers per second during it as a share of those before it. A line is solid for Go, dashed for Python mode, dotted for CPython and dash-dotted for the JVM, in the strategy's colour. Drag to zoom, double-click to zoom out; each row's name leads to its line of the table.</p>
<div id="panels">{{range $g, $group := .Groups}}<div class="panel" data-group="{{$g}}">
<h3>{{(index .Rows 0).Label}}</h3>
{{range .Rows}}<p class="figures"><svg width="36" height="10"><line x1="0" y1="5" x2="36" y2="5" stroke="{{$group.Hue}}" stroke-width="2"{{if eq .Dash "dash"}} stroke-dasharray="6 4"{{else if eq .Dash "dot"}} stroke-dasharray="2 3"{{else if eq .Dash "dashdot"}} stroke-dasharray="6 2 2 2"{{end}}/></svg><a href="#{{.ID}}">{{.Label}}</a>: kept <b>{{.Kept}}</b>; before {{.Before}}/s, during {{.During}}/s, after {{.After}}/s; long request {{.Long}}{{if .Errors}}; {{.Errors}} errors{{end}}{{if .Note}}; {{.Note}}{{end}}</p>
{{end}}<div class="charts"><div class="answers"></div><div class="latency"></div></div>
</div>
{{end}}</div>
{{if .Claims}}<h2>The lecture's claims</h2>
<p>What the lecture said that these rows check, in its words, and what each row kept.</p>
<ul>{{range .Claims}}<li><q>{{.Said}}</q> {{range $i, $r := .Rows}}{{if $i}}; {{end}}{{$r}}{{end}}</li>
{{end}}</ul>{{end}}
<h2>Figures</h2>
<p>Before, during and after are the small requests' answers per second before the long request was sent, while it was in flight and after it was answered; kept is during divided by before, the share of their throughput that survived the long request. A dash marks a figure that had no window, and the note says why.{{if gt (len .Groups) 1}} Click a column to sort; a strategy's Python-mode and CPython rows stay under it.{{end}}</p>
<table id="figures">
<thead><tr><th>{{.First}}</th><th>before/s</th><th>during/s</th><th>after/s</th><th>kept</th><th>long request</th><th>errors</th>{{if .Idle}}<th>idle conn</th>{{end}}<th>note</th></tr></thead>
{{range .Groups}}<tbody>{{range .Rows}}<tr id="{{.ID}}"{{if .Variant}} class="variant"{{end}} style="--c: {{.Color}}" data-keys="{{range $i, $k := .Keys}}{{if $i}} {{end}}{{$k}}{{end}}"><td>{{.Label}}</td><td>{{.Before}}</td><td>{{.During}}</td><td>{{.After}}</td><td>{{.Kept}}</td><td>{{.Long}}</td><td>{{.Errors}}</td>{{if $.Idle}}<td>{{.Idle}}</td>{{end}}<td class="note">{{.Note}}</td></tr>
{{end}}</tbody>
{{end}}</table>
{{if .Sweeps}}<h2>Curves</h2>
<p>Each figure against the swept value, a line per strategy (dashed for CPython), and each knee search's latency against the rate it achieved, the knee marked. Hover for the values; drag to zoom, double-click to zoom out.</p>
<div id="sweeps"></div>
<script id="sweeps-data" type="application/json">{{.SweepsData}}</script>{{end}}
{{if .Why}}<h2>While the long request ran</h2>
<p>{{.WhyNote}}</p>
<table class="why"><thead><tr>{{range .WhyHead}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Why}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</tbody></table>{{end}}
{{if .Lanes}}<h2>Who runs when</h2>
<p>Each row's timeline around the long request's arrival (the red line at 0), one lane per interpreter thread, event loop, worker, queue or connection, as David Beazley drew the GIL. Drag to zoom (every row follows), double-click to zoom out; hover for an event.</p>
{{template "lanes" .}}{{end}}
{{if .IdleBars}}<h2>Server memory per idle connection</h2>
<table class="bars">{{range .IdleBars}}<tr><td>{{.Label}}</td><td style="width:600px;text-align:left"><span class="bar" style="width:{{.Width}}%"></span> {{.Bytes}}</td></tr>
{{end}}</table>{{end}}
<script>{{.UplotJS}}</script>
<script id="data" type="application/json">{{.Data}}</script>
<script>{{.PageJS}}</script>
{{if .Sweeps}}<script>{{.SweepsJS}}</script>{{end}}
</body>
</html>
`))

// pageJS draws a panel per strategy and sorts the table.
const pageJS = `
(function () {
  const d = JSON.parse(document.getElementById("data").textContent);
  const num = (v, unit) => v == null ? "-" : v.toLocaleString(undefined, {maximumFractionDigits: v < 10 ? 2 : 0}) + unit;
  const dashes = {"": [], dash: [8, 5], dot: [2, 4], dashdot: [8, 3, 2, 3]};
  const top = Math.max(1, ...d.series.flatMap(s => s.rate.filter(v => v != null)));
  const latencies = d.series.flatMap(s => s.max.concat(s.p99).filter(v => v != null));
  const lo = Math.min(...latencies, 1), hi = Math.max(...latencies, 1);
  const xmax = d.x.length ? d.x[d.x.length - 1] : 1;
  const width = () => Math.max(360, Math.floor((document.body.clientWidth - 40) / 2));
  const charts = window.charts = []; // the charts, for a test to look at

  // shade greys the spans of the long requests of a panel's runs.
  const shade = runs => u => {
    const ctx = u.ctx;
    ctx.fillStyle = "rgba(0, 0, 0, 0.08)";
    runs.forEach(s => {
      if (!s.long) return;
      const x0 = u.valToPos(s.long[0], "x", true), x1 = u.valToPos(s.long[1], "x", true);
      ctx.fillRect(x0, u.bbox.top, Math.max(x1 - x0, 1), u.bbox.height);
    });
  };

  document.querySelectorAll(".panel").forEach(panel => {
    const runs = d.series.filter(s => s.group === Number(panel.dataset.group));
    const opts = (label, yscale, series) => ({
      width: width(), height: 220,
      legend: {show: false}, // the panel's lines above say what each line is
      cursor: {drag: {x: true, y: false}},
      scales: Object.assign({x: {time: false, range: [0, xmax]}}, yscale),
      axes: [{label: "seconds into the run"}, {label: label, size: 70}],
      series: [{label: "s"}].concat(series),
      hooks: {drawClear: [shade(runs)]},
    });
    const rate = opts("answers/s", {y: {range: [0, top * 1.05]}},
      runs.map(s => ({label: s.label, stroke: s.color, width: 1.5, dash: dashes[s.dash || ""], value: (u, v) => num(v, "/s")})));
    charts.push(new uPlot(rate, [d.x].concat(runs.map(s => s.rate)), panel.querySelector(".answers")));
    const lat = [], latData = [d.x];
    runs.forEach(s => {
      lat.push({label: s.label + " p99", stroke: s.color, width: 1.5, dash: dashes[s.dash || ""], value: (u, v) => num(v, " ms")});
      lat.push({label: s.label + " max", stroke: s.color + "80", width: 1, dash: dashes[s.dash || ""], value: (u, v) => num(v, " ms")});
      latData.push(s.p99, s.max);
    });
    // The log scale starts at a power of ten: from just below one, uPlot's
    // log ticks step past it and never end (a latency of 0.145 ms did).
    const floor = 10 ** Math.floor(Math.log10(lo / 1.5));
    charts.push(new uPlot(opts("latency, ms", {y: {distr: 3, range: [floor, hi * 1.5]}}, lat), latData, panel.querySelector(".latency")));
  });
  addEventListener("resize", () => charts.forEach(u => u.setSize({width: width(), height: 220})));

  const table = document.getElementById("figures");
  let sorted = -1, dir = 1;
  table.querySelectorAll("th").forEach((th, col) => th.addEventListener("click", () => {
    dir = sorted === col ? -dir : (col === 0 ? 1 : -1);
    sorted = col;
    const key = tb => {
      const row = tb.rows[0];
      if (col === 0) return row.cells[0].textContent;
      const keys = row.dataset.keys.split(" ").map(Number);
      return col - 1 < keys.length ? keys[col - 1] : row.cells[col].textContent;
    };
    const groups = Array.from(table.tBodies);
    groups.sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * dir; });
    groups.forEach(g => table.appendChild(g));
  }));
})();
`

// HTML writes cmp as a self-contained page that works offline: a panel per
// strategy, all on the same axes, with its runs' answers per second and
// latency (p99 and max), the long request's span shaded and its rows'
// figures; and the table, sortable, each strategy's Python-mode and
// CPython rows under it. Rows with a timeline (Row.Trace, a file it reads) get a lane
// chart of who ran when around the long request's arrival.
func HTML(w io.Writer, cmp *loadtest.Comparison) error {
	desc := describe(cmp.Scenario)
	if cmp.Python != "" {
		desc += " CPython rows: " + cmp.Python + "."
	}
	if cmp.Java != "" {
		desc += " JVM rows: " + cmp.Java + "."
	}
	for _, l := range cmp.Left {
		desc += " Left out: " + l + "."
	}
	labels := make([]string, len(cmp.Rows))
	var rows []pageRow
	for i, r := range cmp.Rows {
		labels[i] = r.FullLabel()
		long := "unanswered"
		switch {
		case r.NoLong:
			long = "-"
		case r.LongAnswered:
			long = short(r.LongLatency)
		}
		keys := []float64{r.Before, r.During, r.After, r.Kept, r.LongLatency.Seconds(), float64(r.Errors)}
		if cmp.Idle > 0 {
			keys = append(keys, r.IdleBytes)
		}
		dash := ""
		switch {
		case strings.HasPrefix(r.Runtime, "jvm"):
			dash = "dashdot"
		case r.Runtime != "":
			dash = "dot"
		case r.GIL > 0:
			dash = "dash"
		}
		rows = append(rows, pageRow{
			Label: labels[i], Before: beforeCell(r), During: rateCell(r.During, r.NoDuring), After: rateCell(r.After, r.NoAfter),
			Kept: keptCell(r), Long: long, Idle: idleCell(r), Errors: r.Errors, Note: r.Note,
			Keys: keys, Variant: r.GIL > 0 || r.Runtime != "", ID: fmt.Sprintf("row-%d", i+1), Dash: dash,
		})
	}
	var idle []pageIdle
	if cmp.Idle > 0 {
		most := 0.0
		for _, r := range cmp.Rows {
			most = max(most, r.IdleBytes)
		}
		for i, r := range cmp.Rows {
			if r.IdleBytes > 0 {
				idle = append(idle, pageIdle{Label: labels[i], Bytes: idleCell(r), Width: math.Round(1000*r.IdleBytes/most) / 10})
			}
		}
	}
	groups := groupRows(rows)
	colors := map[string]string{} // the lanes'
	series := map[string]pageSeries{}
	for g := range groups {
		groups[g].Hue = palette[g%len(palette)]
		for v := range groups[g].Rows {
			r := &groups[g].Rows[v]
			c := shade(groups[g].Hue, v)
			r.Color, colors[r.Label] = template.CSS(c), c
			series[r.Label] = pageSeries{Color: groups[g].Hue, Group: g, Dash: r.Dash}
		}
	}
	runs := make([]pageSeries, len(cmp.Results))
	for i, res := range cmp.Results {
		runs[i] = series[res.Label] // a run of no row is drawn in the first panel
		runs[i].Label = res.Name()
		if runs[i].Color == "" {
			runs[i].Color = palette[0]
		}
	}
	return writePage(w, pageText{Title: "primetime compare", Description: desc, First: "strategy", Conditions: cmp.Conditions.String(), Claims: claims(cmp)},
		cmp.Idle > 0, groups, runs, cmp.Results, idle, whyRows(cmp), lanesOf(cmp, colors), sweepsOf(cmp))
}

// strategyColors gives each row label of cmp a hue, a lighter one for
// Python-mode and CPython labels: the lines of the sweep charts.
func strategyColors(cmp *loadtest.Comparison) map[string]string {
	name := ""
	if len(cmp.Sweeps) > 0 {
		name = cmp.Sweeps[0].Name
	}
	colors, hues := map[string]string{}, map[string]int{}
	shades := map[string]int{}
	for _, r := range cmp.Rows {
		key := lineLabel(r, name)
		if _, ok := colors[key]; ok {
			continue
		}
		if _, ok := hues[r.Strategy]; !ok {
			hues[r.Strategy] = len(hues)
		}
		colors[key] = shade(palette[hues[r.Strategy]%len(palette)], shades[r.Strategy])
		shades[r.Strategy]++
	}
	return colors
}

// shade returns hex, a colour #rrggbb, lighter by step thirds of the way
// to white (at most two): a strategy's Python-mode and CPython rows in its
// hue.
func shade(hex string, step int) string {
	f := min(float64(step), 2) / 3
	var rgb [3]uint64
	for i := range rgb {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		rgb[i] = v + uint64(math.Round(f*float64(255-v)))
	}
	return fmt.Sprintf("#%02x%02x%02x", rgb[0], rgb[1], rgb[2])
}

// pageText is the words of a page.
type pageText struct {
	Title, Description, Conditions string
	// First heads the table's first column.
	First string
	// Claims are the lecture's claims the rows check.
	Claims []claim
}

// RunHTML writes one run as a self-contained page, as HTML does a
// comparison: its row is the server the run was against.
func RunHTML(w io.Writer, res *loadtest.Result) error {
	sc, s := res.Scenario, res.Summary
	long := "unanswered"
	if s.LongAnswered {
		long = short(s.LongLatency)
	}
	label := sc.Addr
	if res.Label != "" {
		label = res.Name()
	}
	row := pageRow{Label: label, Before: count(s.Before), During: rateCell(s.During, s.NoDuring), After: rateCell(s.After, s.NoAfter),
		Kept: kept(s.Kept, s.KeptMissing), Long: long, Errors: s.Errors, Note: s.KeptMissing,
		Keys: []float64{s.Before, s.During, s.After, s.Kept, s.LongLatency.Seconds(), float64(s.Errors)}, Color: template.CSS(palette[0]), ID: "row-1"}
	desc := fmt.Sprintf("One run against the server at %s: %s", sc.Addr, describe(sc))
	return writePage(w, pageText{Title: "primetime load", Description: desc, First: "server", Conditions: res.Conditions.String()},
		false, []pageGroup{{Rows: []pageRow{row}, Hue: palette[0]}}, []pageSeries{{Label: label, Color: palette[0]}}, []*loadtest.Result{res}, nil, nil, nil, nil)
}

// describe says what a scenario does, in a sentence.
func describe(sc loadtest.Scenario) string {
	desc := fmt.Sprintf("%d clients send %q in a closed loop for %s", sc.Clients, sc.Small, sc.Duration)
	if sc.Rate > 0 {
		desc = fmt.Sprintf("%d clients send %q, %s a second in all, for %s", sc.Clients, sc.Small, count(sc.Rate), sc.Duration)
	}
	if sc.SendsLong() {
		desc += fmt.Sprintf("; one more sends %q after %s", sc.Long, sc.LongAfter)
	}
	return desc + fmt.Sprintf(". Interval %s.", sc.Interval)
}

// groupRows puts each Go row and the Python-mode and CPython rows that
// follow it in a group.
func groupRows(rows []pageRow) []pageGroup {
	var groups []pageGroup
	for _, r := range rows {
		if !r.Variant || len(groups) == 0 {
			groups = append(groups, pageGroup{})
		}
		g := &groups[len(groups)-1]
		g.Rows = append(g.Rows, r)
	}
	return groups
}

func writePage(w io.Writer, text pageText, idle bool, groups []pageGroup, runs []pageSeries, results []*loadtest.Result, bars []pageIdle, why [][]string, lanes []pageLanes, sweeps *pageSweep) error {
	data, err := json.Marshal(chartData(runs, results))
	if err != nil {
		return err
	}
	lanesData, err := json.Marshal(map[string]any{"before": lanesBefore, "after": lanesAfter, "rows": lanes})
	if err != nil {
		return err
	}
	sweepsData, err := json.Marshal(sweeps)
	if err != nil {
		return err
	}
	return page.Execute(w, map[string]any{
		"Sweeps": sweeps != nil, "SweepsData": template.JS(sweepsData), "SweepsJS": template.JS(sweepsJS),
		"Why": why, "WhyHead": whyHead, "WhyNote": whyNote,
		"Lanes": len(lanes) > 0, "LanesData": template.JS(lanesData), "LanesJS": template.JS(lanesJS), "LanesCSS": template.CSS(lanesCSS),
		"Title": text.Title, "Description": text.Description, "Conditions": text.Conditions, "First": text.First, "Claims": text.Claims,
		"Idle": idle, "Groups": groups, "IdleBars": bars,
		"UplotCSS": template.CSS(uplotCSS), "UplotJS": template.JS(uplotJS), "PageJS": template.JS(pageJS),
		"Data": template.JS(data),
	})
}

// chartData lays the runs' intervals on one axis, seconds from each run's
// start to the end of each interval, as runs, one per result, say to draw
// them.
func chartData(runs []pageSeries, results []*loadtest.Result) map[string]any {
	n := 0
	var step time.Duration
	for _, res := range results {
		n = max(n, len(res.Intervals))
		step = max(step, res.Scenario.Interval)
	}
	x := make([]float64, n)
	for i := range x {
		x[i] = (time.Duration(i+1) * step).Seconds()
	}
	ms := func(d time.Duration) *float64 {
		if d <= 0 {
			return nil
		}
		v := float64(d) / float64(time.Millisecond)
		return &v
	}
	series := make([]pageSeries, len(results))
	for i, res := range results {
		s := runs[i]
		s.Rate, s.P50, s.P99, s.Max = make([]*float64, n), make([]*float64, n), make([]*float64, n), make([]*float64, n)
		for j, iv := range res.Intervals {
			rate := iv.Rate()
			s.Rate[j], s.P50[j], s.P99[j], s.Max[j] = &rate, ms(iv.Latency.P50), ms(iv.Latency.P99), ms(iv.Latency.Max)
		}
		var sent, ended time.Time
		for _, e := range res.Events {
			switch e.Kind {
			case loadtest.LongSent:
				sent = e.Time
			case loadtest.LongAnswered, loadtest.LongFailed:
				ended = e.Time
			}
		}
		if !sent.IsZero() {
			if ended.IsZero() {
				ended = res.End
			}
			s.Long = []float64{sent.Sub(res.Start).Seconds(), ended.Sub(res.Start).Seconds()}
		}
		series[i] = s
	}
	return map[string]any{"x": x, "series": series}
}
