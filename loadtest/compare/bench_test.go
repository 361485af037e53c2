package compare

import (
	"bufio"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
)

// handLoop is the minimal closed-loop client: clients connections, each
// sending "1\n" and reading the answer as fast as it can, for d. It
// returns the answers per second.
func handLoop(b *testing.B, addr string, clients int, d time.Duration) float64 {
	var answers atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			c.SetDeadline(deadline)
			br := bufio.NewReader(c)
			req := []byte("1\n")
			n := int64(0)
			for {
				if _, err := c.Write(req); err != nil {
					break
				}
				if _, err := br.ReadSlice('\n'); err != nil {
					break
				}
				n++
			}
			answers.Add(n)
		})
	}
	wg.Wait()
	return float64(answers.Load()) / d.Seconds()
}

// BenchmarkGeneratorVersusHandLoop measures the load generator's top rate
// against a minimal hand-written client loop, on the same server (perconn,
// in a child process of its own), alternating one second of each per
// iteration. It reports both rates and their ratio, gen/hand.
func BenchmarkGeneratorVersusHandLoop(b *testing.B) {
	child, err := startChild(childConfig{Strategy: "perconn"}, nil, startTimeout)
	if err != nil {
		b.Fatal(err)
	}
	defer child.stop()
	const clients = 4
	d := time.Second
	var hand, gen float64
	for b.Loop() {
		hand += handLoop(b, child.Addr, clients, d)
		res, err := loadtest.Run(context.Background(), loadtest.Scenario{Addr: child.Addr, Clients: clients, LongAfter: -1, Duration: d, Interval: d}, nil)
		if err != nil {
			b.Fatal(err)
		}
		gen += res.Summary.Before
	}
	b.ReportMetric(hand/float64(b.N), "hand-req/s")
	b.ReportMetric(gen/float64(b.N), "gen-req/s")
	b.ReportMetric(gen/hand, "gen/hand")
}
