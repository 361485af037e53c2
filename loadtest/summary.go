package loadtest

import (
	"fmt"
	"runtime"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// inFlight returns how many small requests were in flight on average, by
// Little's law, in the intervals after the warm-up and before the long
// request: while it runs, requests wait unanswered, and their latency is
// not yet known.
func inFlight(ivs []Interval, long longState) float64 {
	var done, seconds, latency float64
	for _, iv := range ivs {
		if iv.Warmup || (!long.sent.IsZero() && iv.End.After(long.sent)) {
			continue
		}
		done += float64(iv.Answers + iv.Errors)
		seconds += iv.End.Sub(iv.Start).Seconds()
		latency += float64(iv.Answers) * iv.Latency.Mean.Seconds()
	}
	if seconds == 0 || done == 0 {
		return 0
	}
	return done / seconds * latency / done
}

// generatorBound says whether the generator may have set the pace in the
// intervals that matter: those after the warm-up and before the long
// request, or all after the warm-up if there is none.
func (r *generator) generatorBound(ivs []Interval, long longState) (bool, string) {
	var gen, srv []float64
	for _, iv := range ivs {
		if iv.Warmup || (!long.sent.IsZero() && iv.End.After(long.sent)) {
			continue
		}
		gen, srv = append(gen, iv.GeneratorCPU), append(srv, iv.ServerCPU)
	}
	if len(gen) == 0 {
		for _, iv := range ivs {
			if !iv.Warmup {
				gen, srv = append(gen, iv.GeneratorCPU), append(srv, iv.ServerCPU)
			}
		}
	}
	return generatorBound(gen, srv, runtime.NumCPU())
}

// summarize computes the run's figures once every client has stopped.
func (r *generator) summarize(end time.Time, long longState, total *hdr.Histogram, phases [numPhases]int, errs [numErrKinds]int) Summary {
	s := Summary{
		Answers:      phases[before] + phases[during] + phases[after],
		Latency:      percentiles(total),
		LongSent:     !long.sent.IsZero(),
		LongAnswered: !long.ended.IsZero() && long.err == "" && !long.refused,
		LongRefused:  long.refused,
		LongAnswer:   long.answer,
		LongError:    long.err,
		Closed:       int(r.closed.Load()),
	}
	for k, n := range errs {
		s.Errors += n
		if n > 0 {
			if s.ErrorsByKind == nil {
				s.ErrorsByKind = make(map[string]int)
			}
			s.ErrorsByKind[errKindNames[k]] = n
		}
	}
	rate := func(n int, from, to time.Time) float64 {
		d := to.Sub(from).Seconds()
		if d <= 0 {
			return 0
		}
		return float64(n) / d
	}
	from := r.warmupEnd
	switch {
	case !s.LongSent:
		s.Before = rate(s.Answers, from, end)
		s.NoDuring, s.NoAfter = true, true
	case long.ended.IsZero():
		s.Before = rate(phases[before], from, long.sent)
		s.During = rate(phases[during], long.sent, end)
		s.NoAfter = true
	default:
		s.LongLatency = long.ended.Sub(long.sent)
		s.Before = rate(phases[before], from, long.sent)
		s.During = rate(phases[during], long.sent, long.ended)
		s.After = rate(phases[after], long.ended, end)
	}
	s.setKept()
	if s.LongSent && s.KeptMissing != "" && long.ended.IsZero() && !end.Before(r.start.Add(r.sc.MaxDuration)) {
		s.KeptMissing = fmt.Sprintf("the long request was not answered within %v, the longest run allowed: allow a longer one (MaxDuration), run fewer servers at once, or use a quieter machine", r.sc.MaxDuration)
	}
	return s
}

// setKept sets Kept from Before and During, or KeptMissing to why it
// cannot be.
func (s *Summary) setKept() {
	switch {
	case !s.LongSent:
		s.KeptMissing = "no long request was sent"
	case s.LongRefused:
		s.KeptMissing = "the long request was refused"
	case s.LongError != "":
		s.KeptMissing = "the long request failed"
	case !s.LongAnswered:
		s.KeptMissing = "the long request was not answered before the run ended"
	case s.Before == 0:
		s.KeptMissing = "no small request was answered before the long one"
	default:
		s.Kept = s.During / s.Before
	}
}
