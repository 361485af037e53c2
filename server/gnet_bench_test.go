package server_test

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/primetime-lab/primetime/internal/testkit"
)

// BenchmarkLoopsAgainstGnet measures loop and loops:2, each in a child
// process, beside the same line server written on gnet with as many event
// loops (bench/gnetpeer, a module of its own, built here), alternating
// batches after an untimed one each; ratio is the median over the pairs
// of batches of the strategy's rate over gnet's, so that the machine's
// drift between pairs falls out. The control, "gnet" or "gnet:2", is a
// second gnet peer in the strategy's place: its ratio, at the small
// request, is what this measurement reads for two identical servers.
func BenchmarkLoopsAgainstGnet(b *testing.B) {
	peer := buildGnetPeer(b)
	const batch = 8000
	for _, loops := range []int{1, 2} {
		ours, gnet := "loop", "gnet"
		if loops > 1 {
			ours, gnet = fmt.Sprintf("loops:%d", loops), fmt.Sprintf("gnet:%d", loops)
		}
		for _, text := range []string{ours, gnet} {
			control := text == gnet
			for _, clients := range []int{1, 4, 16, 64} {
				for _, n := range []struct{ n, answer string }{{"1", "2"}, {"100", "541"}} {
					if control && n.n != "1" {
						continue
					}
					b.Run(fmt.Sprintf("%s/clients=%d/n=%s", text, clients, n.n), func(b *testing.B) {
						gnetAddr, stopGnet := startGnetPeer(b, peer, loops)
						defer stopGnet()
						addr := ""
						if control {
							other, stopOther := startGnetPeer(b, peer, loops)
							defer stopOther()
							addr = other
						} else {
							srv := startChild(b, roleStrategyServer, nil, envStrategy+"="+text)
							defer srv.Stop(testkit.Bound)
							addr = srv.Addr
						}
						// A batch each first, untimed: a fresh process's first
						// batch is slower, and ours would go first.
						loadOf(b, addr, clients, batch, false, n.n, n.answer)
						loadOf(b, gnetAddr, clients, batch, false, n.n, n.answer)
						var ours, theirs time.Duration
						var ratios []float64
						for i := 0; b.Loop(); i++ {
							var o, t time.Duration
							if i%2 == 0 {
								o = loadOf(b, addr, clients, batch, false, n.n, n.answer)
								t = loadOf(b, gnetAddr, clients, batch, false, n.n, n.answer)
							} else {
								t = loadOf(b, gnetAddr, clients, batch, false, n.n, n.answer)
								o = loadOf(b, addr, clients, batch, false, n.n, n.answer)
							}
							ours, theirs = ours+o, theirs+t
							ratios = append(ratios, t.Seconds()/o.Seconds())
						}
						total := float64(b.N * batch)
						b.ReportMetric(total/ours.Seconds(), "req/s")
						b.ReportMetric(total/theirs.Seconds(), "gnet-req/s")
						b.ReportMetric(middle(ratios), "ratio")
					})
				}
			}
		}
	}
}

// BenchmarkMinimalLoopsAgainstGnet measures, beside gnet's two event
// loops, two minimal epoll loops in Go (minimalEpollLoops) plain (each
// locked to its thread, system calls only), keeping Go's rule (a yield
// once a millisecond), and keeping it with a microsecond of work a request
// (about what loops:2 does beyond them), loops:2, and a second gnet peer,
// the control, each in a child process, rotating which goes first after
// an untimed batch each; each ratio is the median over the rounds of a
// server's rate over gnet's. It tells what of loops:2's distance to gnet
// is the shape's, in Go, what a microsecond a request costs that shape,
// and what the measurement reads for two identical servers.
func BenchmarkMinimalLoopsAgainstGnet(b *testing.B) {
	peer := buildGnetPeer(b)
	const batch = 8000
	for _, clients := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			gnetAddr, stopGnet := startGnetPeer(b, peer, 2)
			defer stopGnet()
			names := []string{"goepoll:2", "goepoll:2-go", "goepoll:2-go+1us", "gnet:2", "loops:2"}
			addrs := make([]string, len(names))
			last := len(names) - 1 // loops:2, ours; the others are peers
			for i, name := range names[:last] {
				addr, stop := startPeer(b, name, peer)
				defer stop()
				addrs[i] = addr
			}
			srv := startChild(b, roleStrategyServer, nil, envStrategy+"="+names[last])
			defer srv.Stop(testkit.Bound)
			addrs[last] = srv.Addr
			addrs = append(addrs, gnetAddr)
			for _, addr := range addrs {
				load(b, addr, clients, batch, false) // untimed: a fresh process's first batch is slower
			}
			var gnet time.Duration
			ratios := make([][]float64, len(names))
			took := make([]time.Duration, len(addrs))
			for i := 0; b.Loop(); i++ {
				for j := range addrs {
					k := (i + j) % len(addrs)
					took[k] = load(b, addrs[k], clients, batch, false)
				}
				gnet += took[len(took)-1]
				for k := range names {
					ratios[k] = append(ratios[k], took[len(took)-1].Seconds()/took[k].Seconds())
				}
			}
			for k, name := range names {
				b.ReportMetric(middle(ratios[k]), name+"/gnet")
			}
			b.ReportMetric(float64(b.N*batch)/gnet.Seconds(), "gnet-req/s")
		})
	}
}

// buildGnetPeer builds bench/gnetpeer, which go fetches gnet for.
func buildGnetPeer(b *testing.B) string {
	if runtime.GOOS != "linux" {
		b.Skip("the gnet peer is built for Linux here")
	}
	bin := filepath.Join(b.TempDir(), "gnetpeer")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = "../bench/gnetpeer"
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("building the gnet peer: %v\n%s", err, out)
	}
	return bin
}

// startGnetPeer starts the gnet peer with loops event loops and returns its
// address and how to stop it (closing its stdin, and waiting).
func startGnetPeer(b *testing.B, bin string, loops int) (string, func()) {
	cmd := exec.Command(bin, "-loops", fmt.Sprint(loops))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stop := func() {
		stdin.Close()
		io.Copy(io.Discard, stdout)
		if err := cmd.Wait(); err != nil {
			b.Errorf("the gnet peer: %v: %s", err, stderr.String())
		}
	}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if addr, ok := strings.CutPrefix(lines.Text(), "gnetpeer "); ok {
			return addr, stop
		}
	}
	stop()
	b.Fatalf("the gnet peer ended before it listened: %s", stderr.String())
	return "", nil
}
