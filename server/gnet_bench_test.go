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
// batches; ratio is the strategy's rate over gnet's.
func BenchmarkLoopsAgainstGnet(b *testing.B) {
	peer := buildGnetPeer(b)
	const batch = 8000
	for _, loops := range []int{1, 2} {
		text := "loop"
		if loops > 1 {
			text = fmt.Sprintf("loops:%d", loops)
		}
		for _, clients := range []int{1, 4, 16, 64} {
			for _, n := range []struct{ n, answer string }{{"1", "2"}, {"100", "541"}} {
				b.Run(fmt.Sprintf("%s/clients=%d/n=%s", text, clients, n.n), func(b *testing.B) {
					gnetAddr, stopGnet := startGnetPeer(b, peer, loops)
					defer stopGnet()
					srv := startChild(b, roleStrategyServer, nil, envStrategy+"="+text)
					defer srv.Stop(testkit.Bound)
					var ours, theirs time.Duration
					for i := 0; b.Loop(); i++ {
						if i%2 == 0 {
							ours += loadOf(b, srv.Addr, clients, batch, false, n.n, n.answer)
							theirs += loadOf(b, gnetAddr, clients, batch, false, n.n, n.answer)
						} else {
							theirs += loadOf(b, gnetAddr, clients, batch, false, n.n, n.answer)
							ours += loadOf(b, srv.Addr, clients, batch, false, n.n, n.answer)
						}
					}
					total := float64(b.N * batch)
					b.ReportMetric(total/ours.Seconds(), "req/s")
					b.ReportMetric(total/theirs.Seconds(), "gnet-req/s")
					b.ReportMetric(theirs.Seconds()/ours.Seconds(), "ratio")
				})
			}
		}
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
