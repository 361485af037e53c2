package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/internal/testkit"
)

// BenchmarkServerCPUPerAnswer measures the CPU that a server process spends
// per answer, for a strategy and for the minimal goroutine-per-connection
// server (the baseline), each in a child process of its own, in alternating
// order: clients closed-loop clients in this process send batch small
// requests to one, then to the other. A server's CPU is the sum of its
// threads' time on a CPU (/proc's schedstat, in nanoseconds), read before
// and after each batch: steadier here than requests per second, since it
// does not depend on how busy the machine's other core is. ratio is the
// median of the pairs' ratios. The control, "baseline", is a second copy
// of the minimal server in the strategy's place: its ratio is what this
// measurement reads for two identical programs.
func BenchmarkServerCPUPerAnswer(b *testing.B) {
	const batch = 10000
	for _, text := range []string{"perconn", "pool:64", "baseline"} {
		for _, clients := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("%s/clients=%d", text, clients), func(b *testing.B) {
				base := startChild(b, roleBaselineServer, nil)
				defer base.Stop(testkit.Bound)
				role, env := roleStrategyServer, []string{envStrategy + "=" + text}
				if text == "baseline" {
					role, env = roleBaselineServer, nil
				}
				srv := startChild(b, role, nil, env...)
				defer srv.Stop(testkit.Bound)
				var baseCPU, cpu time.Duration
				var ratios []float64
				measure := func(s *reexec.Server) time.Duration {
					before := processCPU(b, s.Pid())
					load(b, s.Addr, clients, batch, false)
					return processCPU(b, s.Pid()) - before
				}
				for i := 0; b.Loop(); i++ {
					var bc, c time.Duration
					if i%2 == 0 {
						bc = measure(base)
						c = measure(srv)
					} else {
						c = measure(srv)
						bc = measure(base)
					}
					baseCPU, cpu = baseCPU+bc, cpu+c
					ratios = append(ratios, c.Seconds()/bc.Seconds())
				}
				n := float64(b.N * batch)
				b.ReportMetric(baseCPU.Seconds()*1e6/n, "base-cpu-µs/answer")
				b.ReportMetric(cpu.Seconds()*1e6/n, "cpu-µs/answer")
				// The median of each pair's ratio: a pair is measured
				// within a second, and the machine's drift between pairs
				// and its worst moments fall out.
				b.ReportMetric(middle(ratios), "ratio")
			})
		}
	}
}

// processCPU returns the time process pid's threads have spent on a CPU,
// from /proc/PID/task/*/schedstat.
func processCPU(b *testing.B, pid int) time.Duration {
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(stats) == 0 {
		b.Skip("needs /proc's schedstat")
	}
	var total time.Duration
	for _, path := range stats {
		s, err := os.ReadFile(path)
		if err != nil {
			continue // the thread has exited
		}
		ns, err := strconv.ParseInt(strings.Fields(string(s))[0], 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		total += time.Duration(ns)
	}
	return total
}
