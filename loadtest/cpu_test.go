package loadtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGeneratorBoundBothWays(t *testing.T) {
	bound, why := generatorBound([]float64{1.0, 0.95, 1.05}, []float64{0.9, 0.9, 0.85}, 2)
	assert.True(t, bound, "a busy machine, the generator taking the larger share")
	assert.Equal(t, "the load generator used 1.0 of 2 CPUs, the server 0.9", why)

	bound, _ = generatorBound([]float64{0.6, 0.6, 0.6}, []float64{1.3, 1.3, 1.3}, 2)
	assert.False(t, bound, "a busy machine, the server taking the larger share: the server is the limit")
	bound, _ = generatorBound([]float64{0.4, 0.4, 0.4}, []float64{0.4, 0.4, 0.4}, 2)
	assert.False(t, bound, "an idle machine")

	bound, why = generatorBound([]float64{1.9, 1.85}, []float64{-1, -1}, 2)
	assert.True(t, bound, "the server unknown, the generator alone nearly all the CPUs")
	assert.Equal(t, "the load generator used 1.9 of 2 CPUs", why)
	bound, _ = generatorBound([]float64{1.0, 1.0}, []float64{-1, -1}, 2)
	assert.False(t, bound, "the server unknown, the generator half the CPUs")
	bound, _ = generatorBound(nil, nil, 2)
	assert.False(t, bound, "no interval")
}

func TestIntervalsRecordTheCPUOfTheGeneratorAndTheServer(t *testing.T) {
	srv := startFake(t, "answer")
	close(srv.release)
	sc := Scenario{Addr: srv.addr(), ServerPID: os.Getpid(), Duration: 200 * time.Millisecond, Interval: 50 * time.Millisecond, LongAfter: -1}
	res, err := Run(context.Background(), sc, nil)
	require.NoError(t, err)
	for _, iv := range res.Intervals {
		assert.GreaterOrEqual(t, iv.GeneratorCPU, 0.0)
		assert.GreaterOrEqual(t, iv.ServerCPU, 0.0, "the server's CPU, read from /proc")
	}
	sc.ServerPID = 0
	res, err = Run(context.Background(), sc, nil)
	require.NoError(t, err)
	assert.Equal(t, -1.0, res.Intervals[0].ServerCPU, "no server process: unknown")
}
