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
)

// BenchmarkServerCPUPerAnswer measures the CPU that a server process spends
// per answer, for a strategy and for the minimal goroutine-per-connection
// server (the baseline), each in a child process of its own, in alternating
// order: clients closed-loop clients in this process send batch small
// requests to one, then to the other. A server's CPU is the sum of its
// threads' time on a CPU (/proc's schedstat, in nanoseconds), read before
// and after each batch: steadier here than requests per second, since it
// does not depend on how busy the machine's other core is.
func BenchmarkServerCPUPerAnswer(b *testing.B) {
	const batch = 20000
	for _, text := range []string{"perconn", "pool:64"} {
		for _, clients := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("%s/clients=%d", text, clients), func(b *testing.B) {
				base := startChild(b, roleBaselineServer, nil)
				defer base.Stop(bound)
				srv := startChild(b, roleStrategyServer, nil, envStrategy+"="+text)
				defer srv.Stop(bound)
				var baseCPU, cpu time.Duration
				measure := func(s *reexec.Server) time.Duration {
					before := processCPU(b, s.Pid())
					load(b, s.Addr, clients, batch, false)
					return processCPU(b, s.Pid()) - before
				}
				for i := 0; b.Loop(); i++ {
					if i%2 == 0 {
						baseCPU += measure(base)
						cpu += measure(srv)
					} else {
						cpu += measure(srv)
						baseCPU += measure(base)
					}
				}
				n := float64(b.N * batch)
				b.ReportMetric(baseCPU.Seconds()*1e6/n, "base-cpu-µs/answer")
				b.ReportMetric(cpu.Seconds()*1e6/n, "cpu-µs/answer")
				b.ReportMetric(cpu.Seconds()/baseCPU.Seconds(), "ratio")
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
