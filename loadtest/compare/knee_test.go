package compare

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeServer is a server whose figures are a known function of the rate:
// it keeps up to 12,000/s, and its p99 turns up at 10,000/s.
func fakeServer(_ context.Context, rate float64) (probeResult, error) {
	r := probeResult{achieved: min(rate, 12000), p99: time.Millisecond}
	if rate >= 10000 {
		r.p99 = 50 * time.Millisecond
	}
	return r, nil
}

func TestTheKneeSearchFindsTheKnownKneeWithinItsProbes(t *testing.T) {
	k := KneeSearch{Start: 1000, Probes: 10}
	knee, err := k.search(context.Background(), fakeServer, nil)
	require.NoError(t, err)
	require.Len(t, knee.Points, 10, "it stops after its probes")
	var rates []float64
	for _, p := range knee.Points {
		rates = append(rates, p.Rate)
	}
	assert.Equal(t, []float64{1000, 2000, 4000, 8000, 16000, 12000, 10000, 9000, 9500, 9750}, rates, "doubling, then bisection")
	last := knee.Points[len(knee.Points)-1].Rate - knee.Points[len(knee.Points)-2].Rate
	assert.LessOrEqual(t, 10000-knee.Rate, 2*last, "within one bisection step of the true knee")
	assert.Equal(t, 9750.0, knee.Rate)
	assert.False(t, knee.GeneratorBound)
	assert.False(t, knee.Points[4].KeptUp, "16,000/s: not kept up")
}

func TestTheKneeSearchStopsWhereTheGeneratorIsTheLimit(t *testing.T) {
	probe := func(ctx context.Context, rate float64) (probeResult, error) {
		r, _ := fakeServer(ctx, rate)
		r.generatorBound = rate >= 4000
		return r, nil
	}
	knee, err := KneeSearch{Start: 1000, Probes: 10}.search(context.Background(), probe, nil)
	require.NoError(t, err)
	assert.Len(t, knee.Points, 3, "no probe past the generator's limit")
	assert.True(t, knee.GeneratorBound)
	assert.Equal(t, 2000.0, knee.Rate, "a lower bound: the last rate the server kept up with before it")
}

func TestTheKneeSearchStopsAtAProbesError(t *testing.T) {
	boom := errors.New("server gone")
	n := 0
	_, err := KneeSearch{}.search(context.Background(), func(context.Context, float64) (probeResult, error) {
		if n++; n == 3 {
			return probeResult{}, boom
		}
		return probeResult{achieved: 1e9}, nil
	}, nil)
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, 3, n)
}
