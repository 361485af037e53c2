package server_test

import (
	"slices"
	"testing"
	"time"

	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/internal/testkit"
)

// BenchmarkRecorderCost measures what recording a timeline costs a server:
// two child servers of the same strategy, one with a Recorder (no anchor,
// so that it records all along) and one without, each sent batches of
// small requests by four closed-loop clients in turn, in alternating order,
// as BenchmarkServerCPUPerAnswer does. cpu-ratio is the median of the
// pairs' ratios of CPU per answer, on over off; rate-ratio the same of
// answers per second.
func BenchmarkRecorderCost(b *testing.B) {
	const batch, clients = 10000, 4
	for _, c := range []struct{ name, strategy, gil, budget string }{
		{"perconn", "perconn", "", "0"}, {"loop", "loop", "", "0"}, {"perconn-gil=5ms", "perconn", "5ms", "0"},
		{"perconn/budget=4MiB", "perconn", "", "4194304"}, {"perconn-gil=5ms/budget=4MiB", "perconn", "5ms", "4194304"},
	} {
		b.Run(c.name, func(b *testing.B) {
			env := []string{envStrategy + "=" + c.strategy, envGIL + "=" + c.gil}
			off := startChild(b, roleStrategyServer, nil, env...)
			defer off.Stop(testkit.Bound)
			on := startChild(b, roleStrategyServer, nil, append(env, envRecord+"="+c.budget)...)
			defer on.Stop(testkit.Bound)
			measure := func(s *reexec.Server) (cpu, wall time.Duration) {
				before, start := processCPU(b, s.Pid()), time.Now()
				load(b, s.Addr, clients, batch, false)
				return processCPU(b, s.Pid()) - before, time.Since(start)
			}
			var cpuRatios, rateRatios []float64
			for i := 0; b.Loop(); i++ {
				var offCPU, offWall, onCPU, onWall time.Duration
				if i%2 == 0 {
					offCPU, offWall = measure(off)
					onCPU, onWall = measure(on)
				} else {
					onCPU, onWall = measure(on)
					offCPU, offWall = measure(off)
				}
				cpuRatios = append(cpuRatios, onCPU.Seconds()/offCPU.Seconds())
				rateRatios = append(rateRatios, offWall.Seconds()/onWall.Seconds())
			}
			slices.Sort(cpuRatios)
			slices.Sort(rateRatios)
			b.ReportMetric(cpuRatios[len(cpuRatios)/2], "cpu-ratio")
			b.ReportMetric(rateRatios[len(rateRatios)/2], "rate-ratio")
		})
	}
}
