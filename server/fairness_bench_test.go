package server_test

import (
	"bufio"
	"bytes"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/primetime-lab/primetime/internal/testkit"
)

// BenchmarkLoopFairness measures what one greedy client costs the others
// under an event loop, in a child process: the greedy one sends 1 MiB of
// pipelined small requests and never reads, while four others each ask
// 1,000 small requests, closed-loop. It reports the others' p50, p99 and
// largest latency. A loop that serves all of one connection's buffered
// requests in one turn makes every other connection wait for them.
func BenchmarkLoopFairness(b *testing.B) {
	for _, text := range []string{"loop", "perconn"} {
		b.Run(text, func(b *testing.B) {
			child := startChild(b, roleStrategyServer, nil, envStrategy+"="+text)
			defer child.Stop(testkit.Bound)
			var lat []time.Duration
			for b.Loop() {
				greedy, err := net.Dial("tcp", child.Addr)
				if err != nil {
					b.Fatal(err)
				}
				var writer sync.WaitGroup
				writer.Go(func() {
					greedy.Write(bytes.Repeat([]byte("1\n"), 1<<19)) // until the server stops reading, or the close
				})
				var others sync.WaitGroup
				var mu sync.Mutex
				for range 4 {
					others.Go(func() {
						c, err := net.Dial("tcp", child.Addr)
						if err != nil {
							b.Error(err)
							return
						}
						defer c.Close()
						br := bufio.NewReader(c)
						mine := make([]time.Duration, 0, 1000)
						for range 1000 {
							start := time.Now()
							if _, err := c.Write([]byte("1\n")); err != nil {
								b.Error(err)
								return
							}
							if _, err := br.ReadSlice('\n'); err != nil {
								b.Error(err)
								return
							}
							mine = append(mine, time.Since(start))
						}
						mu.Lock()
						lat = append(lat, mine...)
						mu.Unlock()
					})
				}
				others.Wait()
				greedy.Close()
				writer.Wait()
			}
			slices.Sort(lat)
			q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))]) / float64(time.Millisecond) }
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(q(1), "max-ms")
		})
	}
}
