package compare

import (
	"context"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
)

// A KneeSearch finds, for each row, its knee: the highest open-loop rate
// of small requests at which the server keeps up (it answers at least
// KeepUp of the rate asked) and their p99 stays under P99. It doubles the
// rate from Start until a probe fails, then bisects between the last rate
// that passed and the first that failed, Probes runs in all.
type KneeSearch struct {
	// P99 bounds the p99 latency; zero means DefaultKneeP99.
	P99 time.Duration
	// Start is the first rate probed; zero means DefaultKneeStart.
	Start float64
	// Probes is how many runs the search makes a row; zero means
	// DefaultKneeProbes.
	Probes int
	// Probe is each probe's length; zero means DefaultKneeProbe.
	Probe time.Duration
}

// Defaults of a KneeSearch: a p99 that makes sense for n=1 on loopback,
// and probes enough for about a 3% step above 1,000 requests a second.
const (
	DefaultKneeP99    = 10 * time.Millisecond
	DefaultKneeStart  = 1000
	DefaultKneeProbes = 12
	DefaultKneeProbe  = 2 * time.Second
	// KeepUp is the share of the rate asked that a server must answer.
	KeepUp = 0.95
)

// withDefaults fills in k's zero fields.
func (k KneeSearch) withDefaults() KneeSearch {
	if k.P99 <= 0 {
		k.P99 = DefaultKneeP99
	}
	if k.Start <= 0 {
		k.Start = DefaultKneeStart
	}
	if k.Probes <= 0 {
		k.Probes = DefaultKneeProbes
	}
	if k.Probe <= 0 {
		k.Probe = DefaultKneeProbe
	}
	return k
}

// probeResult is what one probe at a rate found.
type probeResult struct {
	achieved       float64
	p99            time.Duration
	generatorBound bool
}

// search runs k's search with probe, and returns the knee (0 if no rate
// passed) and every probed point. A probe where the generator may have
// been the limit ends the search: above it the figures are the
// generator's, and the knee is then marked as a lower bound.
func (k KneeSearch) search(ctx context.Context, probe func(context.Context, float64) (probeResult, error), probed func(loadtest.KneePoint)) (loadtest.Knee, error) {
	k = k.withDefaults()
	var knee loadtest.Knee
	pass, fail := 0.0, 0.0
	rate := k.Start
	for len(knee.Points) < k.Probes && ctx.Err() == nil {
		r, err := probe(ctx, rate)
		if err != nil {
			return knee, err
		}
		ok := r.achieved >= KeepUp*rate && r.p99 < k.P99
		knee.Points = append(knee.Points, loadtest.KneePoint{Rate: rate, Achieved: r.achieved, P99: r.p99, KeptUp: ok, GeneratorBound: r.generatorBound})
		if probed != nil {
			probed(knee.Points[len(knee.Points)-1])
		}
		if r.generatorBound {
			knee.GeneratorBound = true
			break
		}
		if ok {
			pass = rate
		} else {
			fail = rate
		}
		if fail == 0 {
			rate *= 2
		} else {
			rate = (pass + fail) / 2
		}
	}
	knee.Rate = pass
	return knee, ctx.Err()
}

// A KneeProgress is a Progress that is also told of a knee search: Knee
// before a row's search starts, with its bounds (at most probes probes,
// each of length probe; a rate is kept up with when keepUp of it is
// answered with the p99 under p99), and Probe as each probe ends.
type KneeProgress interface {
	Progress
	Knee(label string, probes int, probe, p99 time.Duration, keepUp float64)
	Probe(label string, p loadtest.KneePoint)
}

// findKnee searches t's knee with x.Knee, against a server of its own,
// with sc's small requests at open-loop rates and no long request; label
// is its row's, for Progress.
func (x Experiment) findKnee(ctx context.Context, t target, sc loadtest.Scenario, label string) (loadtest.Knee, error) {
	k := x.Knee.withDefaults()
	var probed func(loadtest.KneePoint)
	if kp, ok := x.Progress.(KneeProgress); ok {
		kp.Knee(label, k.Probes, k.Probe, k.P99, KeepUp)
		probed = func(p loadtest.KneePoint) { kp.Probe(label, p) }
	}
	addr, pid, stop, err := x.startServer(ctx, t, sc, "")
	if err != nil {
		return loadtest.Knee{}, err
	}
	probe := func(ctx context.Context, rate float64) (probeResult, error) {
		p := sc
		p.Addr, p.ServerPID, p.Rate, p.LongAfter, p.Longs = addr, pid, rate, -1, 0
		p.Duration, p.Interval, p.Warmup = k.Probe, 0, k.Probe/10
		res, err := loadtest.Run(ctx, p, nil)
		if err != nil {
			return probeResult{}, err
		}
		s := res.Summary
		return probeResult{achieved: s.Before, p99: s.Latency.P99, generatorBound: s.GeneratorBound}, nil
	}
	knee, err := k.search(ctx, probe, probed)
	if serr := stop(); err == nil {
		err = serr
	}
	return knee, err
}
