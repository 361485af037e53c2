package main

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
)

// The chart's geometry, in SVG units.
const (
	chartWidth  = 720
	chartHeight = 90
)

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>primetime compare</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: .25em .75em; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child, th:last-child, td.note { text-align: left; }
.chart { margin: .5em 0 1.5em; }
.chart h3 { margin: 0; font-size: 14px; }
svg { background: #fafafa; border: 1px solid #eee; }
.long { fill: #f4b183; opacity: .45; }
.rate { fill: none; stroke: #2f5597; stroke-width: 1.5; }
.axis { font-size: 11px; fill: #666; }
</style>
</head>
<body>
<h1>primetime compare</h1>
<p>{{.Description}}</p>
<table>
<tr><th>strategy</th><th>before/s</th><th>during/s</th><th>after/s</th><th>kept</th><th>long request</th><th>errors</th>{{if .Idle}}<th>idle conn</th>{{end}}<th>note</th></tr>
{{range .Rows}}<tr><td>{{.Strategy}}</td><td>{{.Before}}</td><td>{{.During}}</td><td>{{.After}}</td><td>{{.Kept}}</td><td>{{.Long}}</td><td>{{.Errors}}</td>{{if $.Idle}}<td>{{.Idle}}</td>{{end}}<td class="note">{{.Note}}</td></tr>
{{end}}</table>
<p>Answers per second in each interval, each chart scaled to its own peak; the shaded span is the long request in flight.</p>
{{range .Charts}}<div class="chart"><h3>{{.Strategy}} (peak {{.Peak}}/s)</h3>
<svg width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="answers per second for {{.Strategy}}">
{{if .LongWidth}}<rect class="long" x="{{.LongX}}" y="0" width="{{.LongWidth}}" height="{{.Height}}"/>{{end}}
<polyline class="rate" points="{{.Points}}"/>
<text class="axis" x="4" y="12">{{.Peak}}/s</text>
<text class="axis" x="{{.Width}}" y="{{.Height}}" dx="-4" dy="-4" text-anchor="end">{{.Duration}}</text>
</svg></div>
{{end}}
</body>
</html>
`))

type htmlRow struct {
	Strategy, Before, During, After, Kept, Long, Idle, Note string
	Errors                                                  int
}

type htmlChart struct {
	Strategy, Peak, Points, Duration string
	Width, Height                    int
	LongX, LongWidth                 float64
}

// writeHTML writes a self-contained page: the table, and a chart per
// strategy drawn in inline SVG, with nothing fetched from the network.
func writeHTML(w io.Writer, cmp *loadtest.Comparison) error {
	sc := cmp.Scenario
	data := struct {
		Description string
		Idle        bool
		Rows        []htmlRow
		Charts      []htmlChart
	}{
		Idle: cmp.Idle > 0,
		Description: fmt.Sprintf("%d clients send %q in a closed loop for %s; one more sends %q after %s. Interval %s.",
			sc.Clients, sc.Small, sc.Duration, sc.Long, sc.LongAfter, sc.Interval),
	}
	for _, r := range cmp.Rows {
		long := "unanswered"
		if r.LongAnswered {
			long = short(r.LongLatency)
		}
		data.Rows = append(data.Rows, htmlRow{
			Strategy: r.Label(), Before: count(r.Before), During: count(r.During), After: count(r.After),
			Kept: kept(r.Kept, r.KeptMissing), Long: long, Idle: idleCell(r), Errors: r.Errors, Note: r.Note,
		})
	}
	for i, res := range cmp.Results {
		data.Charts = append(data.Charts, chartOf(cmp.Rows[i].Label(), res))
	}
	return page.Execute(w, data)
}

func chartOf(name string, res *loadtest.Result) htmlChart {
	total := res.End.Sub(res.Start)
	if total <= 0 {
		total = res.Scenario.Duration
	}
	x := func(t time.Time) float64 {
		return float64(chartWidth) * float64(t.Sub(res.Start)) / float64(total)
	}
	peak := 0.0
	for _, iv := range res.Intervals {
		peak = max(peak, iv.Rate())
	}
	var points strings.Builder
	for _, iv := range res.Intervals {
		y := float64(chartHeight)
		if peak > 0 {
			y = float64(chartHeight) - (float64(chartHeight)-16)*iv.Rate()/peak
		}
		mid := iv.Start.Add(iv.End.Sub(iv.Start) / 2)
		fmt.Fprintf(&points, "%.1f,%.1f ", x(mid), y)
	}
	c := htmlChart{
		Strategy: name, Peak: count(peak), Points: strings.TrimSpace(points.String()),
		Duration: short(total), Width: chartWidth, Height: chartHeight,
	}
	var sent, answered time.Time
	for _, e := range res.Events {
		switch e.Kind {
		case loadtest.LongSent:
			sent = e.Time
		case loadtest.LongAnswered, loadtest.LongFailed:
			answered = e.Time
		}
	}
	if !sent.IsZero() {
		if answered.IsZero() {
			answered = res.End
		}
		c.LongX, c.LongWidth = x(sent), max(1, x(answered)-x(sent))
	}
	return c
}
