package timeline

import (
	"cmp"
	"slices"
)

// Figures are gil_load's figures of a trace, taken while the long request
// runs: from its arrival to its answer, or to the trace's end if it was not
// answered within it.
type Figures struct {
	// WindowMS is how long the figures were taken over, in milliseconds.
	WindowMS float64 `json:"window_ms"`
	// Lock says whether the trace has the interpreter lock's events; the
	// figures of the lock are zero without it.
	Lock bool `json:"lock,omitempty"`
	// LongHold is the share of the window in which the long request's
	// thread held the lock, and SmallHold the share in which the other
	// threads did, all together.
	LongHold  float64 `json:"long_hold,omitempty"`
	SmallHold float64 `json:"small_hold,omitempty"`
	// LongHoldP50MS and SmallHoldP50MS are the median holds of the long
	// request's thread and of the others, in milliseconds, weighted by
	// time: half the time held was in holds at least that long. In
	// Python mode, a switch interval and a small request's time; the
	// loop's long task is one hold.
	LongHoldP50MS  float64 `json:"long_hold_p50_ms,omitempty"`
	SmallHoldP50MS float64 `json:"small_hold_p50_ms,omitempty"`
	// WaitP50MS and WaitP99MS are the other threads' waits for the lock
	// that ended in the window, in milliseconds.
	WaitP50MS float64 `json:"wait_p50_ms,omitempty"`
	WaitP99MS float64 `json:"wait_p99_ms,omitempty"`
	// DropRequests and Switches are per second: the drop requests made,
	// and the times the lock went to another thread.
	DropRequests float64 `json:"drop_requests_per_s,omitempty"`
	Switches     float64 `json:"switches_per_s,omitempty"`
	// FailedWakes counts the woken waiters that found the lock taken.
	FailedWakes int `json:"failed_wakes,omitempty"`
	// Loop says whether the trace has an event loop; LoopBusy is the
	// share of the window its loops spent busy rather than polling.
	Loop     bool    `json:"loop,omitempty"`
	LoopBusy float64 `json:"loop_busy,omitempty"`
	// Queue says whether the trace has an executor's queue; MaxQueue is
	// its largest depth in the window.
	Queue    bool `json:"queue,omitempty"`
	MaxQueue int  `json:"max_queue,omitempty"`
	// RequestWaitP99MS is the p99 of the waits for the lock that each
	// other request's thread made from its previous answer to this one's,
	// where a request's thread records on its connection's lane (the
	// goroutine strategies): what a closed-loop client waits for in all.
	RequestWaitP99MS float64 `json:"request_wait_p99_ms,omitempty"`
	// LatencyP99MS is the p99 latency of the other requests answered in
	// the window, in milliseconds, from their request spans.
	LatencyP99MS float64 `json:"latency_p99_ms,omitempty"`
}

// Figures returns the trace's figures while the request whose payload is
// long runs; an empty long means the anchor the trace was recorded with.
func (t *Trace) Figures(long string) Figures {
	if long == "" {
		long, _ = t.Other["anchor"].(string)
	}
	from, to := t.window(long)
	f := Figures{WindowMS: (to - from) / 1e3}
	if to <= from {
		return f
	}
	seconds := (to - from) / 1e6
	clip := func(e TraceEvent) float64 { return max(0, min(e.TS+e.Dur, to)-max(e.TS, from)) }
	in := func(ts float64) bool { return ts >= from && ts <= to }

	longHeld := map[Thread]float64{}
	for _, e := range t.Events {
		if e.Cat == "gil" && e.Name == "hold" && e.Arg("request") == long {
			longHeld[Thread{e.PID, e.TID}] += clip(e)
		}
	}
	var longThread Thread
	best := -1.0
	for th, d := range longHeld {
		if d > best || d == best && th.TID < longThread.TID {
			longThread, best = th, d
		}
	}
	var waits, latencies, requestWaits, longHolds, smallHolds []float64
	type span struct{ end, dur float64 }
	laneWaits, laneRequests := map[Thread][]span{}, map[Thread][]span{}
	var holds []TraceEvent
	loops := map[Thread]bool{}
	var busy float64
	for _, e := range t.Events {
		th := Thread{e.PID, e.TID}
		switch {
		case e.Cat == "gil" && e.Name == "hold":
			f.Lock = true
			if th == longThread {
				f.LongHold += clip(e)
				if clip(e) > 0 {
					longHolds = append(longHolds, e.Dur)
				}
			} else {
				f.SmallHold += clip(e)
				if clip(e) > 0 {
					smallHolds = append(smallHolds, e.Dur)
				}
			}
			if clip(e) > 0 {
				holds = append(holds, e)
			}
		case e.Cat == "gil" && e.Name == "wait":
			f.Lock = true
			if th != longThread && in(e.TS+e.Dur) {
				waits = append(waits, e.Dur)
			}
			laneWaits[th] = append(laneWaits[th], span{e.TS + e.Dur, e.Dur})
		case e.Cat == "gil" && e.Name == "drop request" && in(e.TS):
			f.DropRequests++
		case e.Cat == "gil" && e.Name == "failed wake-up" && in(e.TS):
			f.FailedWakes++
		case e.Cat == "loop":
			f.Loop, loops[th] = true, true
			if e.Name == "busy" {
				busy += clip(e)
			}
		case e.Cat == "queue" && e.Ph == "C":
			f.Queue = true
			if d, ok := e.Args["depth"].(float64); ok && in(e.TS) {
				f.MaxQueue = max(f.MaxQueue, int(d))
			}
		case e.Cat == "request" && e.Arg("request") != long && in(e.TS+e.Dur) && e.Dur > 0:
			latencies = append(latencies, e.Dur)
			laneRequests[th] = append(laneRequests[th], span{e.TS + e.Dur, e.Dur})
		}
	}
	window := to - from
	f.LongHold /= window
	f.SmallHold /= window
	f.DropRequests /= seconds
	if len(loops) > 0 {
		f.LoopBusy = busy / (window * float64(len(loops)))
	}
	slices.SortFunc(holds, func(a, b TraceEvent) int { return cmp.Compare(a.TS, b.TS) })
	for i := 1; i < len(holds); i++ {
		if (Thread{holds[i].PID, holds[i].TID}) != (Thread{holds[i-1].PID, holds[i-1].TID}) {
			f.Switches++
		}
	}
	f.Switches /= seconds
	for th, requests := range laneRequests {
		ws := laneWaits[th]
		slices.SortFunc(ws, func(a, b span) int { return cmp.Compare(a.end, b.end) })
		slices.SortFunc(requests, func(a, b span) int { return cmp.Compare(a.end, b.end) })
		i, prev := 0, -1.0
		for _, r := range requests {
			sum := 0.0
			for ; i < len(ws) && ws[i].end <= r.end; i++ {
				if ws[i].end > prev {
					sum += ws[i].dur
				}
			}
			requestWaits, prev = append(requestWaits, sum), r.end
		}
	}
	f.LongHoldP50MS, f.SmallHoldP50MS = weightedMedian(longHolds)/1e3, weightedMedian(smallHolds)/1e3
	f.RequestWaitP99MS = quantile(requestWaits, 0.99) / 1e3
	f.WaitP50MS, f.WaitP99MS = quantile(waits, 0.50)/1e3, quantile(waits, 0.99)/1e3
	f.LatencyP99MS = quantile(latencies, 0.99) / 1e3
	return f
}

// window returns the long request's span in the trace, in microseconds.
func (t *Trace) window(long string) (from, to float64) {
	var first, last float64
	for i, e := range t.Events {
		end := e.TS + e.Dur
		if i == 0 || e.TS < first {
			first = e.TS
		}
		last = max(last, end)
		if e.Cat == "request" && e.Name == "request" && long != "" && e.Arg("request") == long {
			return e.TS, end
		}
	}
	if ts, ok := t.Other["anchor_ts"].(float64); ok {
		return ts, last
	}
	return first, last
}

// weightedMedian returns the duration d of xs (sorted in place) such that
// half their sum is in durations of at least d, or 0.
func weightedMedian(xs []float64) float64 {
	slices.Sort(xs)
	total := 0.0
	for _, x := range xs {
		total += x
	}
	sum := 0.0
	for i := len(xs) - 1; i >= 0; i-- {
		if sum += xs[i]; sum >= total/2 {
			return xs[i]
		}
	}
	return 0
}

// quantile returns the q quantile of xs (sorted in place), or 0.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	i := int(q*float64(len(xs))+0.5) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}
