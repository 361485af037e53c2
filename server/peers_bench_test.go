package server_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/internal/testkit"
)

// BenchmarkBesidePeers measures every strategy beside the server written
// without primetime that has its shape (its peer), at 1, 4, 16 and 64
// closed-loop clients of small requests (n=1), each server in a child
// process of its own, alternating batches; ratio is the strategy's rate
// over its peer's. The peers: gomin, the minimal goroutine-per-connection
// server (roleBaselineServer); goepoll, the minimal one-thread epoll server
// (serveMinimalEpoll); gnet and gnet:2, the line server on gnet with one
// and two event loops (bench/gnetpeer). Serial and its peer use a new
// connection per request, as in BenchmarkThroughput.
func BenchmarkBesidePeers(b *testing.B) {
	gnetBin := buildGnetPeer(b)
	const batch = 4000
	rows := []struct{ strategy, peer string }{
		{"serial", "gomin"},
		{"perconn", "gomin"},
		{"pool:64", "gomin"},
		{"procpool:2", "gomin"},
		{"loop", "goepoll"},
		{"loop", "gnet"},
		{"loop+goroutines:2", "goepoll"},
		{"loop+procs:2", "goepoll"},
		{"loops:2", "gnet:2"},
	}
	for _, row := range rows {
		for _, clients := range []int{1, 4, 16, 64} {
			b.Run(fmt.Sprintf("%s/%s/clients=%d", row.strategy, row.peer, clients), func(b *testing.B) {
				reconnect := row.strategy == "serial"
				peerAddr, stopPeer := startPeer(b, row.peer, gnetBin)
				defer stopPeer()
				srv := startChild(b, roleStrategyServer, nil, envStrategy+"="+row.strategy)
				defer srv.Stop(testkit.Bound)
				var ours, theirs time.Duration
				for i := 0; b.Loop(); i++ {
					if i%2 == 0 {
						ours += load(b, srv.Addr, clients, batch, reconnect)
						theirs += load(b, peerAddr, clients, batch, reconnect)
					} else {
						theirs += load(b, peerAddr, clients, batch, reconnect)
						ours += load(b, srv.Addr, clients, batch, reconnect)
					}
				}
				n := float64(b.N * batch)
				b.ReportMetric(n/ours.Seconds(), "req/s")
				b.ReportMetric(n/theirs.Seconds(), "peer-req/s")
				b.ReportMetric(theirs.Seconds()/ours.Seconds(), "ratio")
			})
		}
	}
}

// startPeer starts the peer named name in a child process and returns its
// address and how to stop it.
func startPeer(b *testing.B, name, gnetBin string) (addr string, stop func()) {
	switch name {
	case "gomin":
		s := startChild(b, roleBaselineServer, nil)
		return s.Addr, func() { s.Stop(testkit.Bound) }
	case "goepoll", "goepoll:2", "goepoll:2-go", "goepoll:2-go+1us":
		s := startChild(b, roleEpollFloor, nil, envFloorLoops+"="+strings.TrimPrefix(name, "goepoll"))
		return s.Addr, func() { s.Stop(testkit.Bound) }
	case "gnet":
		return startGnetPeer(b, gnetBin, 1)
	case "gnet:2":
		return startGnetPeer(b, gnetBin, 2)
	}
	b.Fatalf("no peer %q", name)
	return "", nil
}

// roleEpollFloor serves serveMinimalEpoll's server in a child process,
// until its stdin closes; with envFloorLoops ":2", two such loops, with
// ":2-go", two that keep Go's rule, and with ":2-go+D", those spinning for
// the duration D a request (minimalEpollLoops).
const (
	roleEpollFloor = "test-epoll-floor"
	envFloorLoops  = "PRIMETIME_TEST_FLOOR_LOOPS"
)

func init() {
	reexec.RegisterRole(roleEpollFloor, func() error {
		loops, goRule, work := 1, false, time.Duration(0)
		shape, spin, _ := strings.Cut(os.Getenv(envFloorLoops), "+")
		switch shape {
		case "":
		case ":2":
			loops = 2
		case ":2-go":
			loops, goRule = 2, true
		default:
			return fmt.Errorf("%s=%q: no such floor", envFloorLoops, os.Getenv(envFloorLoops))
		}
		if spin != "" {
			var err error
			if work, err = time.ParseDuration(spin); err != nil {
				return err
			}
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		stop, err := minimalEpollLoops(l, loops, goRule, work)
		if err != nil {
			return err
		}
		fmt.Println(childPrefix, l.Addr())
		io.Copy(io.Discard, os.Stdin)
		stop()
		return nil
	})
}
