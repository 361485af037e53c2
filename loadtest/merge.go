package loadtest

import (
	"errors"
	"fmt"
	"slices"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// maxMergedIntervals bounds a merged result, and any saved one, as files
// that say anything must not make Merge allocate without end. Merge holds
// one histogram at a time, beside the compressed ones the parts hold.
const maxMergedIntervals = 1 << 20

// A Part is one of the runs a merged Result was made of.
type Part struct {
	// Label is the part's label, if it had one.
	Label string `json:"label,omitempty"`
	// Start is when the part's run started, and Clients how many small
	// request clients it ran.
	Start   time.Time `json:"start"`
	Clients int       `json:"clients"`
	// Conditions are what the part was measured under: its machine.
	Conditions Conditions `json:"conditions"`
	// Skew is how far the part's start was from a whole number of
	// intervals after the earliest part's.
	Skew time.Duration `json:"skew,omitempty"`
}

// Merge adds up runs of one scenario that several generators made against
// one server at the same time (load -start-at lines their intervals up),
// exactly: the intervals aligned on absolute time, their answers and
// errors summed, their latency histograms added, so that every percentile
// is the percentile of all the parts' latencies, never an average of
// percentiles. The long request's events are those of the one generator
// that sent it; before, during and after are recomputed from the merged
// intervals, to the interval. The parts' conditions are kept in Parts. A
// merge of one result is that result.
//
// Merge refuses runs of different requests, protocols or intervals, runs
// that do not overlap in time or span more than 2^20 intervals, runs saved
// without histograms, and two parts that both sent the long request. It
// works one interval at a time: its memory is the parts' and the merged
// result's compressed histograms, and one histogram besides.
func Merge(parts ...*Result) (*Result, error) {
	switch {
	case len(parts) == 0:
		return nil, errors.New("loadtest: nothing to merge")
	case slices.Contains(parts, nil):
		return nil, errors.New("loadtest: a nil result to merge")
	case len(parts) == 1:
		return parts[0], nil
	}
	first := parts[0]
	iv := first.Scenario.Interval
	longFrom := -1
	for i, p := range parts {
		sc := p.Scenario
		switch {
		case sc.Small != first.Scenario.Small || sc.Long != first.Scenario.Long:
			return nil, fmt.Errorf("loadtest: part %d sends %q and %q, part 1 %q and %q: merge runs of one scenario", i+1, sc.Small, sc.Long, first.Scenario.Small, first.Scenario.Long)
		case sc.Protocol != first.Scenario.Protocol:
			return nil, fmt.Errorf("loadtest: part %d speaks %q, part 1 %q: merge runs of one scenario", i+1, sc.Protocol, first.Scenario.Protocol)
		case sc.Interval != iv || iv < MinInterval:
			return nil, fmt.Errorf("loadtest: part %d counts every %v, part 1 every %v: merge runs of one interval", i+1, sc.Interval, iv)
		}
		for j, piv := range p.Intervals {
			if piv.Histogram == nil {
				return nil, fmt.Errorf("loadtest: part %d's interval %d has no histogram: it was saved before they were kept, and cannot be merged exactly", i+1, j)
			}
		}
		if p.Summary.LongSent {
			if longFrom >= 0 {
				return nil, fmt.Errorf("loadtest: parts %d and %d both sent the long request: let one generator send it (the others with -after -1)", longFrom+1, i+1)
			}
			longFrom = i
		}
	}
	start, end := first.Start, first.End
	latest, earliest := first.Start, first.End
	for _, p := range parts[1:] {
		start, end = minTime(start, p.Start), maxTime(end, p.End)
		latest, earliest = maxTime(latest, p.Start), minTime(earliest, p.End)
	}
	if !latest.Before(earliest) {
		return nil, errors.New("loadtest: the runs do not overlap in time: merge runs made together (load -start-at starts them together)")
	}
	if end.Sub(start)/iv > maxMergedIntervals {
		return nil, fmt.Errorf("loadtest: the runs span %v, more than %d intervals of %v", end.Sub(start), maxMergedIntervals, iv)
	}

	out := &Result{Label: "merged", Scenario: first.Scenario, Start: start, End: end, Conditions: first.Conditions}
	out.Scenario.Clients, out.Scenario.Rate, out.Scenario.Longs, out.Scenario.ServerPID = 0, 0, 0, 0
	firsts := make([]int, len(parts)) // the merged interval of each part's first
	for i, p := range parts {
		offset := p.Start.Sub(start)
		k0 := int((offset + iv/2) / iv)
		firsts[i] = k0
		skew := offset - time.Duration(k0)*iv
		if skew < 0 {
			skew = -skew
		}
		out.Parts = append(out.Parts, Part{Label: p.Label, Start: p.Start, Clients: p.Scenario.Clients, Conditions: p.Conditions, Skew: skew})
		out.Scenario.Clients += p.Scenario.Clients
		out.Scenario.Rate += p.Scenario.Rate
		out.Scenario.Longs += p.Scenario.Longs
		if n := k0 + len(p.Intervals); n > maxMergedIntervals {
			return nil, fmt.Errorf("loadtest: part %d ends %d intervals after the first part starts, more than %d", i+1, n, maxMergedIntervals)
		}
		for j, piv := range p.Intervals {
			k := k0 + j
			for len(out.Intervals) <= k {
				n := len(out.Intervals)
				s := start.Add(time.Duration(n) * iv)
				out.Intervals = append(out.Intervals, Interval{Start: s, End: s.Add(iv)})
			}
			m := &out.Intervals[k]
			m.Answers += piv.Answers
			m.Errors += piv.Errors
			m.Warmup = m.Warmup || piv.Warmup
			m.LongInFlight = m.LongInFlight || piv.LongInFlight
			m.GeneratorCPU += piv.GeneratorCPU
			m.ServerCPU = max(m.ServerCPU, piv.ServerCPU)
		}
		out.Events = append(out.Events, p.Events...)
	}
	slices.SortStableFunc(out.Events, func(a, b Event) int { return a.Time.Compare(b.Time) })
	// The histograms, one merged interval at a time, packed: a latency
	// histogram holds a few hundred of its tens of thousands of buckets,
	// and the packed one's work is in proportion to those.
	total, h := newPackedHistogram(), newPackedHistogram()
	for k := range out.Intervals {
		h.Reset()
		for i, p := range parts {
			j := k - firsts[i]
			if j < 0 || j >= len(p.Intervals) {
				continue
			}
			ph, err := hdr.DecodePacked(p.Intervals[j].Histogram)
			if err != nil {
				return nil, fmt.Errorf("loadtest: part %d's interval %d: %w", i+1, j, err)
			}
			h.Merge(ph)
		}
		m := &out.Intervals[k]
		m.Latency = packedPercentiles(h)
		var err error
		if m.Histogram, err = h.Encode(); err != nil {
			return nil, fmt.Errorf("loadtest: merged interval %d: %w", k, err)
		}
		if !m.Warmup {
			total.Merge(h)
		}
	}
	out.Intervals[len(out.Intervals)-1].End = end
	out.Summary = mergedSummary(out, parts, longFrom, total)
	return out, nil
}

// mergedSummary recomputes the figures of a merged result from its
// intervals: before, during and after to the interval, since an interval
// of one part may hold answers of either side of the long request's send.
func mergedSummary(out *Result, parts []*Result, longFrom int, total *hdr.PackedHistogram) Summary {
	var s Summary
	if longFrom >= 0 {
		l := parts[longFrom].Summary
		s.LongSent, s.LongAnswered, s.LongRefused, s.LongLatency, s.LongAnswer, s.LongError = l.LongSent, l.LongAnswered, l.LongRefused, l.LongLatency, l.LongAnswer, l.LongError
	}
	for _, p := range parts {
		s.LongsAnswered += p.Summary.LongsAnswered
		s.AnsweredClients += p.Summary.AnsweredClients
		s.GeneratorBound = s.GeneratorBound || p.Summary.GeneratorBound
		if s.LongsError == "" {
			s.LongsError = p.Summary.LongsError
		}
		for k, n := range p.Summary.ErrorsByKind {
			if s.ErrorsByKind == nil {
				s.ErrorsByKind = map[string]int{}
			}
			s.ErrorsByKind[k] += n
		}
	}
	s.Latency = packedPercentiles(total)
	var phases [numPhases]struct {
		answers int
		seconds float64
	}
	at := before
	for _, iv := range out.Intervals {
		if iv.Warmup {
			continue
		}
		s.Answers += iv.Answers
		s.Errors += iv.Errors
		switch {
		case iv.LongInFlight:
			at = during
		case at == during:
			at = after
		}
		phases[at].answers += iv.Answers
		phases[at].seconds += iv.End.Sub(iv.Start).Seconds()
	}
	rate := func(p phase) float64 {
		if phases[p].seconds == 0 {
			return 0
		}
		return float64(phases[p].answers) / phases[p].seconds
	}
	s.Before, s.During, s.After = rate(before), rate(during), rate(after)
	s.NoDuring, s.NoAfter = !s.LongSent, !s.LongSent || !s.LongAnswered || phases[after].seconds == 0
	s.setKept()
	var long longState
	for _, e := range out.Events {
		if e.Kind == LongSent {
			long.sent = e.Time
		}
	}
	s.InFlight = inFlight(out.Intervals, long)
	return s
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
