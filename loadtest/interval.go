package loadtest

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// closeInterval collects every client's bucket for the interval that ends,
// and adds what is past the warm-up to the run's totals.
func (r *generator) closeInterval(start, end time.Time, total *hdr.Histogram, phases *[numPhases]int, errs *[numErrKinds]int) Interval {
	iv := Interval{Start: start, End: end, Warmup: start.Before(r.warmupEnd)}
	hist := newHistogram()
	for i, t := range r.tallies {
		b := t.swap()
		hist.Merge(b.hist)
		for p, n := range b.answers {
			iv.Answers += n
			if !iv.Warmup {
				phases[p] += n
				if phase(p) == before {
					r.answeredBefore[i] += n
				}
			}
		}
		for k, n := range b.errors {
			iv.Errors += n
			if !iv.Warmup {
				errs[k] += n
			}
		}
		t.release(b)
	}
	iv.Latency = percentiles(hist)
	iv.Histogram, _ = hist.Encode(hdr.V2CompressedEncodingCookieBase) // cannot fail for this version
	iv.GeneratorCPU, iv.ServerCPU = r.cpu.read()
	if !iv.Warmup {
		total.Merge(hist)
	}
	r.mu.Lock()
	long := r.long
	r.mu.Unlock()
	iv.LongInFlight = !long.sent.IsZero() && long.sent.Before(end) && (long.ended.IsZero() || long.ended.After(start))
	return iv
}
