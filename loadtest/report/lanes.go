package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/loadtest"
)

// The part of each timeline a page draws, around the long request's
// arrival, and how many events of a row it keeps: enough for a few dozen
// switch intervals, in a page that stays a few megabytes.
const (
	lanesBefore = 25e3  // µs
	lanesAfter  = 150e3 // µs
	lanesMax    = 30000
)

// The kinds of events the page's script draws, by their code.
var laneKinds = map[[2]string]int{
	{"gil", "hold"}: 0, {"gil", "wait"}: 1, {"gil", "drop request"}: 2, {"gil", "failed wake-up"}: 3,
	{"loop", "poll"}: 4, {"loop", "busy"}: 5, {"queue", "queued"}: 7, {"request", "request"}: 8, {"queue", "queue"}: 9,
}

// taskKind is the code of a task span, whatever the task's name.
const taskKind = 6

// pageLanes is one row's lane chart: its lanes, and its events in the
// window as [lane, kind, start, duration, flag], times in µs from the long
// request's arrival; flag is 1 for the long request's own events, and for
// a hold how it ended (1 done, 2 blocked, 3 drop request) plus 4 if the
// long request's; a depth's duration is the depth.
type pageLanes struct {
	Label     string       `json:"label"`
	Color     string       `json:"color"`
	Lanes     []string     `json:"lanes"`
	Events    [][5]float64 `json:"events"`
	Truncated bool         `json:"truncated,omitempty"`
	Lock      bool         `json:"lock"`
	Note      string       `json:"note,omitempty"`
}

// lanesOf reads the timelines of cmp's rows that have one.
func lanesOf(cmp *loadtest.Comparison, colors map[string]string) []pageLanes {
	var out []pageLanes
	for _, r := range cmp.Rows {
		if r.Trace == "" {
			continue
		}
		long := r.Long
		if long == "" {
			long = cmp.Scenario.Long
		}
		pl, err := readLanes(r.Trace, long)
		if err != nil {
			pl = &pageLanes{Note: fmt.Sprintf("its timeline could not be read: %v", err)}
		}
		pl.Label, pl.Color = r.Label(), colors[r.Label()]
		if strings.HasPrefix(r.Runtime, "jvm") {
			pl.Note = strings.TrimPrefix(pl.Note+"; the JVM's threads, from the server's own log: each request's steps (arrival to answer, and computing) on the thread that ran them", "; ")
		} else if r.Runtime != "" {
			pl.Note = strings.TrimPrefix(pl.Note+"; CPython's lock cannot be seen from inside without a rebuilt interpreter: its lanes show each request's steps (arrival to answer, and computing) on the threads that ran them", "; ")
		}
		out = append(out, *pl)
	}
	return out
}

// readLanes reads the timeline in path and lays out its window.
func readLanes(path, long string) (*pageLanes, error) {
	tr, err := timeline.ReadTraceFile(path)
	if err != nil {
		return nil, err
	}
	anchor, ok := tr.Anchor(long)
	if !ok {
		return &pageLanes{Note: "the long request is not in its timeline"}, nil
	}
	from, to := anchor-lanesBefore, anchor+lanesAfter
	type laneKey = timeline.Thread
	index := map[laneKey]int{}
	var keys []laneKey
	pl := &pageLanes{}
	longLane := map[laneKey]bool{}
	for _, e := range tr.Events {
		if e.TS > to || e.TS+e.Dur < from {
			continue
		}
		kind, known := laneKinds[[2]string{e.Cat, e.Name}]
		if e.Cat == "task" {
			kind, known = taskKind, true
		}
		if !known {
			continue
		}
		if len(pl.Events) == lanesMax {
			pl.Truncated = true
			break
		}
		k := laneKey{PID: e.PID, TID: e.TID}
		i, seen := index[k]
		if !seen {
			i = len(keys)
			index[k] = i
			keys = append(keys, k)
		}
		flag := 0.0
		isLong := e.Arg("request") == long
		if isLong {
			flag = 1
			longLane[k] = longLane[k] || e.Cat == "request" || e.Cat == "gil"
		}
		dur := e.Dur
		switch kind {
		case 0:
			pl.Lock = true
			flag = map[string]float64{"done": 1, "blocked": 2, "drop request": 3}[e.Arg("ended")]
			if isLong {
				flag += 4
			}
		case 9:
			d, _ := e.Args["depth"].(float64)
			dur = d
		}
		pl.Events = append(pl.Events, [5]float64{float64(i), float64(kind), round1(e.TS - anchor), round1(dur), flag})
	}
	// Lanes in the order a reader looks for them: the long request's,
	// then loops, workers and queues, then the other connections.
	rank := func(k laneKey) int {
		name := tr.Names[k]
		switch {
		case longLane[k]:
			return 0
		case strings.HasPrefix(name, "loop"):
			return 1
		case strings.HasPrefix(name, "worker") || strings.Contains(name, "Executor"):
			return 2
		case strings.Contains(name, "queue"):
			return 3
		}
		return 4
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rank(keys[a]), rank(keys[b])) })
	moved := make([]float64, len(keys))
	for to, from := range order {
		moved[from] = float64(to)
		name := tr.Names[keys[from]]
		if name == "" {
			name = fmt.Sprintf("thread %d", keys[from].TID)
		}
		if longLane[keys[from]] {
			name += " (long)"
		}
		pl.Lanes = append(pl.Lanes, name)
	}
	for i := range pl.Events {
		pl.Events[i][0] = moved[int(pl.Events[i][0])]
	}
	return pl, nil
}

// round1 rounds µs to a tenth, which is all a page can show.
func round1(f float64) float64 { return math.Round(f*10) / 10 }

// lanesCSS styles the lane charts, in every page that has them.
const lanesCSS = `.lane-row h3 { font-size: 14px; margin: 1.2em 0 .3em; padding-left: .5em; }
.lane-note { color: #555; margin: 0 0 .3em; }
.lane-tip { position: absolute; display: none; background: #fff; border: 1px solid #999; padding: .2em .5em; font-size: 12px; pointer-events: none; }
.key span { display: inline-block; width: 1.2em; height: .8em; margin: 0 .3em 0 1em; vertical-align: middle; }
`

// lanesSection is the lane charts' part of a page: their key, their box,
// their data and their script.
const lanesSection = `{{define "lanes"}}<p class="key"><span style="background:#c00000"></span>the long request's thread holds the lock<span style="background:#2f5597"></span>another thread holds it<span style="background:#f0b400"></span>waits for it<span style="background:#000;height:.5em"></span>drop request<span style="background:#e7298a;height:.5em"></span>failed wake-up<span style="background:#636363"></span>loop busy<span style="background:#d9d9d9"></span>loop polls<span style="background:#548235"></span>a task runs<span style="background:#b2182b"></span>the long task<span style="background:#c9a0dc"></span>queued<span style="background:#7030a0"></span>queue depth<span style="background:#9dc3e6"></span>a request, arrival to answer</p>
<div id="lanes"></div>
<script id="lanes-data" type="application/json">{{.LanesData}}</script>
<script>{{.LanesJS}}</script>{{end}}`

// lanesPage is a page of the lane charts alone: Lanes writes it.
var lanesPage = template.Must(template.Must(template.New("lanes-page").Parse(lanesSection)).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Who runs when</title>
<style>body { font: 14px/1.4 system-ui, sans-serif; margin: .5em 1em; } {{.LanesCSS}}</style>
</head><body>{{template "lanes" .}}</body></html>
`))

// Lanes writes a page of the lane charts of cmp's rows that have a
// timeline (Row.Trace), drawn as HTML draws them: the moment around each
// row's long request, for a page of its own or a frame of another's (the
// lab's). A row whose timeline cannot be read says why.
func Lanes(w io.Writer, cmp *loadtest.Comparison) error {
	colors := map[string]string{}
	for i, r := range cmp.Rows {
		colors[r.Label()] = palette[i%len(palette)]
	}
	data, err := json.Marshal(map[string]any{"before": lanesBefore, "after": lanesAfter, "rows": lanesOf(cmp, colors)})
	if err != nil {
		return err
	}
	return lanesPage.Execute(w, map[string]any{"LanesCSS": template.CSS(lanesCSS), "LanesData": template.JS(data), "LanesJS": template.JS(lanesJS)})
}

// lanesJS draws the lane charts: a canvas per row, one lane per thread,
// loop, worker, queue or connection, all on one time axis that a drag
// zooms and a double-click resets; hovering names the event under the
// pointer.
const lanesJS = `
(function () {
  const d = JSON.parse(document.getElementById("lanes-data").textContent);
  const box = document.getElementById("lanes");
  if (!box || !d.rows.length) return;
  const LH = 15, LEFT = 170, AXIS = 22;
  let x0 = -d.before, x1 = d.after;
  const all = d.rows;
  const tip = document.createElement("div");
  tip.className = "lane-tip"; document.body.appendChild(tip);
  const kinds = ["hold", "wait for the lock", "drop request", "failed wake-up", "poll", "busy", "task", "queued", "request", "queue depth"];
  const ended = ["", "done", "blocked", "drop request"];
  const charts = all.map(row => {
    const wrap = document.createElement("div");
    wrap.className = "lane-row";
    const h = document.createElement("h3");
    h.textContent = row.label;
    h.style.borderLeft = "6px solid " + row.color;
    wrap.appendChild(h);
    if (row.note) { const p = document.createElement("p"); p.className = "lane-note"; p.textContent = row.note; wrap.appendChild(p); }
    const c = document.createElement("canvas");
    wrap.appendChild(c); box.appendChild(wrap);
    const byLane = row.lanes.map(() => []);
    const depthMax = Math.max(1, ...row.events.filter(e => e[1] === 9).map(e => e[3]));
    row.events.forEach(e => byLane[e[0]].push(e));
    return {row, c, wrap, byLane, depthMax};
  });
  const px = (ch, t) => LEFT + (t - x0) / (x1 - x0) * (ch.c.clientWidth - LEFT - 8);
  function draw(ch) {
    const {row, c, byLane} = ch, dpr = devicePixelRatio || 1;
    const w = box.clientWidth - 2, h = row.lanes.length * LH + AXIS;
    c.style.width = w + "px"; c.style.height = h + "px";
    c.width = w * dpr; c.height = h * dpr;
    const g = c.getContext("2d");
    g.scale(dpr, dpr);
    g.font = "11px system-ui, sans-serif";
    g.clearRect(0, 0, w, h);
    let drawn = 0;
    byLane.forEach((evs, lane) => {
      const y = lane * LH;
      g.fillStyle = lane % 2 ? "#fafafa" : "#f2f2f2";
      g.fillRect(LEFT, y, w - LEFT, LH);
      g.fillStyle = "#333";
      g.fillText(row.lanes[lane], 4, y + 11, LEFT - 8);
      const span = (e, top, height, color) => {
        const a = px(ch, e[2]), b = px(ch, e[2] + e[3]);
        if (b < LEFT || a > w) return;
        g.fillStyle = color;
        g.fillRect(Math.max(a, LEFT), y + top, Math.max(b - Math.max(a, LEFT), 0.6), height);
        drawn++;
      };
      const order = [8, 1, 7, 6, 4, 5, 0];
      order.forEach(k => evs.forEach(e => {
        if (e[1] !== k) return;
        switch (k) {
        case 8: span(e, 10, 4, e[4] ? "#f4a582" : "#9dc3e6"); break;
        case 1: span(e, 10, 4, "#f0b400"); break;
        case 7: span(e, 10, 4, "#c9a0dc"); break;
        case 6: span(e, row.lock ? 10 : 1, row.lock ? 4 : 9, e[4] ? "#b2182b" : "#548235"); break;
        case 4: span(e, 3, 5, "#d9d9d9"); break;
        case 5: span(e, 1, 9, "#636363"); break;
        case 0: span(e, 1, 9, e[4] >= 4 ? "#c00000" : "#2f5597"); break;
        }
      }));
      let last = null;
      evs.forEach(e => {
        if (e[1] === 9) {
          const a = Math.max(px(ch, e[2]), LEFT), hh = (LH - 3) * e[3] / ch.depthMax;
          if (last) { g.fillStyle = "#7030a0"; g.fillRect(last.a, y + LH - 1 - last.hh, Math.max(a - last.a, 0.6), last.hh); }
          last = {a, hh}; drawn++;
        } else if (e[1] === 2 || e[1] === 3) {
          const a = px(ch, e[2]);
          if (a < LEFT || a > w) return;
          g.fillStyle = e[1] === 2 ? "#000" : "#e7298a";
          g.beginPath(); g.moveTo(a - 3, y); g.lineTo(a + 3, y); g.lineTo(a, y + 5); g.fill();
          drawn++;
        }
      });
    });
    const y = row.lanes.length * LH;
    g.fillStyle = "#333"; g.strokeStyle = "#999";
    const step = niceStep((x1 - x0) / 8);
    for (let t = Math.ceil(x0 / step) * step; t <= x1; t += step) {
      const a = px(ch, t);
      g.beginPath(); g.moveTo(a, 0); g.lineTo(a, y + 4); g.stroke();
      if (a < w - 50) g.fillText(fmt(t), a + 2, y + 15);
    }
    const z = px(ch, 0);
    if (z >= LEFT) { g.strokeStyle = "#c00000"; g.beginPath(); g.moveTo(z, 0); g.lineTo(z, y); g.stroke(); }
    ch.wrap.dataset.drawn = drawn;
  }
  const niceStep = s => { const p = Math.pow(10, Math.floor(Math.log10(s))); return [1, 2, 5, 10].map(m => m * p).find(v => v >= s); };
  const fmt = us => Math.abs(us) >= 1000 || us === 0 ? (us / 1000).toFixed(Math.abs(us) >= 10000 ? 0 : 1) + " ms" : us.toFixed(0) + " µs";
  const redraw = () => charts.forEach(draw);
  charts.forEach(ch => {
    let dragFrom = null;
    const t = ev => x0 + (ev.offsetX - LEFT) / (ch.c.clientWidth - LEFT - 8) * (x1 - x0);
    ch.c.addEventListener("mousedown", ev => { if (ev.offsetX > LEFT) dragFrom = t(ev); });
    ch.c.addEventListener("mouseup", ev => {
      if (dragFrom === null) return;
      const to = t(ev);
      if (Math.abs(to - dragFrom) > (x1 - x0) / 200) { x0 = Math.min(dragFrom, to); x1 = Math.max(dragFrom, to); redraw(); }
      dragFrom = null;
    });
    ch.c.addEventListener("dblclick", () => { x0 = -d.before; x1 = d.after; redraw(); });
    ch.c.addEventListener("mouseleave", () => { tip.style.display = "none"; });
    ch.c.addEventListener("mousemove", ev => {
      const lane = Math.floor(ev.offsetY / LH), at = t(ev);
      const evs = ch.byLane[lane];
      if (!evs || ev.offsetX < LEFT) { tip.style.display = "none"; return; }
      const slack = (x1 - x0) / 300;
      let best = null;
      evs.forEach(e => {
        if (e[1] === 9) return;
        const end = e[2] + e[3];
        if (at >= e[2] - slack && at <= end + slack && (!best || e[3] < best[3] || [2, 3].includes(e[1]))) best = e;
      });
      if (!best) { tip.style.display = "none"; return; }
      let text = ch.row.lanes[lane] + ": " + kinds[best[1]];
      if (best[1] === 0) text += ", ended: " + ended[best[4] & 3] + (best[4] >= 4 ? ", the long request's" : "");
      else if (best[4]) text += ", the long request's";
      text += " at " + fmt(best[2]);
      if (![2, 3].includes(best[1])) text += " for " + fmt(best[3]);
      tip.textContent = text;
      tip.style.display = "block";
      tip.style.left = (ev.pageX + 12) + "px"; tip.style.top = (ev.pageY + 12) + "px";
    });
  });
  redraw();
  addEventListener("resize", redraw);
})();
`
