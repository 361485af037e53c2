package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

// baseline is the minimal goroutine-per-connection server: the floor that
// the kernel and the Go runtime set for the line protocol and the prime
// task. It does what the strategies do per request, and nothing else.
func baseline(b *testing.B) (addr string, stop func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	return l.Addr().String(), serveBaseline(l)
}

// serveBaseline serves l as the baseline does until stop is called.
func serveBaseline(l net.Listener) (stop func()) { return serveLinesPerConn(l, runPrime) }

// serveLinesPerConn serves each connection of l on a goroutine of its own
// with serveLines and answer, until stop is called.
func serveLinesPerConn(l net.Listener, answer func(line []byte) ([]byte, error)) (stop func()) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				serveLines(c, bufio.NewReader(c), answer)
			})
		}
	})
	return func() {
		l.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}
}

// runPrime runs the prime task on one request line, without its newline.
func runPrime(n []byte) ([]byte, error) {
	return primetime.Prime.Run(context.Background(), n)
}

// serveLines answers the lines that br reads from c with answer, until
// reading, answering or writing fails: the minimal servers' loop.
func serveLines(c net.Conn, br *bufio.Reader, answer func(line []byte) ([]byte, error)) {
	var out []byte
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		a, err := answer(line[:len(line)-1])
		if err != nil {
			return
		}
		out = append(append(out[:0], a...), '\n')
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// middle returns the middle of ratios, the upper of the two middle ones
// for an even count, as the benchmarks report the pairs of batches they
// alternate: the machine's drift between pairs falls out. It sorts ratios.
func middle(ratios []float64) float64 {
	slices.Sort(ratios)
	return ratios[len(ratios)/2]
}

// load sends requests small requests ("1") to addr from clients closed-loop
// clients and returns the elapsed time. With reconnect, each request uses a
// new connection.
func load(b *testing.B, addr string, clients, requests int, reconnect bool) time.Duration {
	return loadOf(b, addr, clients, requests, reconnect, "1", "2")
}

// loadOf is load with the request n and its answer given.
func loadOf(b *testing.B, addr string, clients, requests int, reconnect bool, n, answer string) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for i := range clients {
		per := requests / clients
		if i < requests%clients {
			per++
		}
		wg.Go(func() {
			var c net.Conn
			var br *bufio.Reader
			req := []byte(n + "\n")
			want := answer + "\n"
			for range per {
				if c == nil {
					var err error
					if c, err = net.Dial("tcp", addr); err != nil {
						b.Error(err)
						return
					}
					br = bufio.NewReader(c)
				}
				if _, err := c.Write(req); err != nil {
					b.Error(err)
					return
				}
				if line, err := br.ReadSlice('\n'); err != nil || string(line) != want {
					b.Errorf("answer %q, %v", line, err)
					return
				}
				if reconnect {
					c.Close()
					c = nil
				}
			}
			if c != nil {
				c.Close()
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// serveFor starts a server with the strategy named text.
func serveFor(b *testing.B, text string) (addr string, stop func()) {
	s, err := strategy.Parse(text)
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &server.Server{Strategy: s, Logger: discard}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	return l.Addr().String(), func() {
		srv.Close()
		<-served
	}
}

// BenchmarkThroughput measures small-request throughput over loopback for
// every strategy with 1, 4, 16 and 64 closed-loop clients, beside the
// baseline server in the same run: each iteration sends a batch to the
// baseline and the same batch to the strategy, in alternating order. It
// reports both rates and their ratio. Serial is measured with a new connection per request, and so
// is its baseline, since with persistent connections Serial serves one
// client only.
func BenchmarkThroughput(b *testing.B) {
	const batch = 4000
	for _, text := range []string{"serial", "perconn", "pool:64", "loop", "loop+goroutines:2", "procpool:2", "loop+procs:2"} {
		for _, clients := range []int{1, 4, 16, 64} {
			b.Run(fmt.Sprintf("%s/clients=%d", text, clients), func(b *testing.B) {
				reconnect := text == "serial"
				baseAddr, stopBase := baseline(b)
				defer stopBase()
				addr, stop := serveFor(b, text)
				defer stop()
				var base, strat time.Duration
				for i := 0; b.Loop(); i++ {
					// Alternate which goes first, so that neither
					// always runs on a warmer or a busier machine.
					if i%2 == 0 {
						base += load(b, baseAddr, clients, batch, reconnect)
						strat += load(b, addr, clients, batch, reconnect)
					} else {
						strat += load(b, addr, clients, batch, reconnect)
						base += load(b, baseAddr, clients, batch, reconnect)
					}
				}
				n := float64(b.N * batch)
				b.ReportMetric(n/base.Seconds(), "base-req/s")
				b.ReportMetric(n/strat.Seconds(), "req/s")
				b.ReportMetric(base.Seconds()/strat.Seconds(), "ratio")
			})
		}
	}
}

// BenchmarkLoops measures loops:2 beside loop and perconn, each server in a
// child process of its own, with requests of real work (n=100, about 60 µs
// each, where one loop's one core is the limit) and of none (n=1), at 4,
// 16 and 64 clients: each iteration sends a batch to each, rotating which
// goes first. It reports each one's rate and loops:2's over the other two's.
func BenchmarkLoops(b *testing.B) {
	const batch = 2000
	for _, req := range []struct{ n, answer string }{{"100", "541"}, {"1", "2"}} {
		for _, clients := range []int{4, 16, 64} {
			b.Run(fmt.Sprintf("n=%s/clients=%d", req.n, clients), func(b *testing.B) {
				texts := []string{"loops:2", "loop", "perconn"}
				addrs := make([]string, len(texts))
				for i, text := range texts {
					child := startChild(b, roleStrategyServer, nil, envStrategy+"="+text)
					defer child.Stop(testkit.Bound)
					addrs[i] = child.Addr
				}
				took := make([]time.Duration, len(texts))
				for i := 0; b.Loop(); i++ {
					for j := range texts {
						k := (i + j) % len(texts)
						took[k] += loadOf(b, addrs[k], clients, batch, false, req.n, req.answer)
					}
				}
				n := float64(b.N * batch)
				for k, text := range texts {
					b.ReportMetric(n/took[k].Seconds(), text+"-req/s")
				}
				b.ReportMetric(took[1].Seconds()/took[0].Seconds(), "loops:2/loop")
				b.ReportMetric(took[2].Seconds()/took[0].Seconds(), "loops:2/perconn")
			})
		}
	}
}

// BenchmarkServerAllocs measures the server's allocations per request on
// the line protocol's hot path: the client loop allocates nothing, so
// every allocation counted is the server's (and the task's answer).
func BenchmarkServerAllocs(b *testing.B) {
	for _, text := range []string{"perconn", "loop", "loop+goroutines:2"} {
		b.Run(text, func(b *testing.B) {
			addr, stop := serveFor(b, text)
			defer stop()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			req := []byte("1\n")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Write(req); err != nil {
					b.Fatal(err)
				}
				if _, err := br.ReadSlice('\n'); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIdleConnections opens conns connections to a server, each of
// which asks one small request and then stays idle, and reports the memory
// they hold (heap and stacks, client and server sides both, after a GC)
// per connection, and how long opening them took; the baseline server is
// measured the same way in the same run. Serial is left out: it accepts one
// connection at a time. Both ends live in this process, so 9,000
// connections take 18,000 descriptors: the most a hard limit of 20,000
// allows.
func BenchmarkIdleConnections(b *testing.B) {
	raiseFileLimit(b, 19000)
	for _, text := range []string{"perconn", "pool:64", "loop", "loop+goroutines:2", "procpool:2"} {
		for _, conns := range []int{1000, 9000} {
			b.Run(fmt.Sprintf("%s/conns=%d", text, conns), func(b *testing.B) {
				var baseBytes, bytes float64
				var baseTime, stratTime time.Duration
				for b.Loop() {
					addr, stop := baseline(b)
					m, d := holdIdle(b, addr, conns, conns)
					stop()
					baseBytes, baseTime = baseBytes+m, baseTime+d
					addr, stop = serveFor(b, text)
					// A pool serves 64 connections and queues the rest
					// until those close: read no answers from it.
					answered := conns
					if text == "pool:64" {
						answered = 0
					}
					m, d = holdIdle(b, addr, conns, answered)
					stop()
					bytes, stratTime = bytes+m, stratTime+d
				}
				n := float64(b.N)
				b.ReportMetric(baseBytes/n, "base-B/conn")
				b.ReportMetric(bytes/n, "B/conn")
				b.ReportMetric(baseTime.Seconds()/n, "base-open-s")
				b.ReportMetric(stratTime.Seconds()/n, "open-s")
			})
		}
	}
}

// holdIdle opens conns connections to addr, asks one request on each,
// reads the answers on the first answered, and returns the memory per
// connection they hold and the time they took.
func holdIdle(b *testing.B, addr string, conns, answered int) (float64, time.Duration) {
	before := memInUse()
	start := time.Now()
	_, closeAll := openIdle(b, addr, conns, answered)
	defer closeAll()
	took := time.Since(start)
	return float64(memInUse()-before) / float64(conns), took
}

// openIdle opens conns connections to addr, asks one request on each,
// reads the answers on the first answered, and returns a function that
// closes them all.
func openIdle(b *testing.B, addr string, conns, answered int) (open []net.Conn, closeAll func()) {
	open = make([]net.Conn, 0, conns)
	closeAll = func() {
		for _, c := range open {
			c.Close()
		}
	}
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			closeAll()
			b.Fatalf("after %d connections: %v", len(open), err)
		}
		open = append(open, c)
	}
	if err := ask(open, answered, "1\n", "2\n"); err != nil {
		closeAll()
		b.Fatal(err)
	}
	return open, closeAll
}

// ask sends request on each connection, and reads answer on the first
// answered.
func ask(conns []net.Conn, answered int, request, answer string) error {
	for i, c := range conns {
		if _, err := io.WriteString(c, request); err != nil {
			return err
		}
		if i < answered {
			if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != answer {
				return fmt.Errorf("connection %d: answer %q, %v", i, line, err)
			}
		}
	}
	return nil
}

func memInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// roleBaselineServer runs the baseline server in a child process.
const roleBaselineServer = "test-baseline-server"

func init() {
	reexec.RegisterRole(roleBaselineServer, func() error {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		stop := serveBaseline(l)
		fmt.Println(childPrefix, l.Addr())
		io.Copy(io.Discard, os.Stdin)
		stop()
		return nil
	})
}

// BenchmarkIdleConnectionsServerSide opens 15,000 connections to a server
// in a child process of its own, each asking one request and then staying
// idle, and reports the growth of the server process's resident memory per
// connection and the time it took to open them and have each answered,
// beside the baseline server's, measured the same way in the same run. With
// the server in another process, the two ends need 15,000 descriptors each.
func BenchmarkIdleConnectionsServerSide(b *testing.B) {
	raiseFileLimit(b, 16000)
	const conns = 15000
	for _, text := range []string{"perconn", "pool:64", "loop", "loops:2", "loop+goroutines:2", "procpool:2"} {
		b.Run(fmt.Sprintf("%s/conns=%d", text, conns), func(b *testing.B) {
			answered := conns
			if text == "pool:64" {
				answered = 0 // it serves 64 and queues the rest
			}
			var base, strat float64
			var baseTime, stratTime time.Duration
			for b.Loop() {
				m, d := childConnCost(b, startChild(b, roleBaselineServer, nil), conns, conns)
				base, baseTime = base+m, baseTime+d
				m, d = childConnCost(b, startChild(b, roleStrategyServer, nil, envStrategy+"="+text), conns, answered)
				strat, stratTime = strat+m, stratTime+d
			}
			n := float64(b.N)
			b.ReportMetric(base/n, "base-B/conn")
			b.ReportMetric(strat/n, "B/conn")
			b.ReportMetric(baseTime.Seconds()/n, "base-open-s")
			b.ReportMetric(stratTime.Seconds()/n, "open-s")
		})
	}
}

// startRole starts this program in a child role, with env added to its
// environment and pipes to its stdin and from its stdout.
func startRole(role string, env ...string) (cmd *exec.Cmd, stdin io.WriteCloser, stdout io.ReadCloser, err error) {
	if cmd, err = reexec.Command("", nil, role, nil, env...); err != nil {
		return nil, nil, nil, err
	}
	if stdin, err = cmd.StdinPipe(); err != nil {
		return nil, nil, nil, err
	}
	if stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, nil, nil, err
	}
	if err = cmd.Start(); err != nil {
		return nil, nil, nil, err
	}
	return cmd, stdin, stdout, nil
}

// childConnCost opens conns connections to the child server, asks one
// request on each and reads the first answered answers, and returns the
// growth of the child's resident memory per connection and the time the
// connections took; then it asks each of those again, and stops the child.
func childConnCost(b *testing.B, s *reexec.Server, conns, answered int) (float64, time.Duration) {
	defer s.Stop(testkit.Bound)
	before := residentBytes(b, s.Pid())
	start := time.Now()
	open, closeAll := openIdle(b, s.Addr, conns, answered)
	took := time.Since(start)
	defer closeAll()
	grown := residentBytes(b, s.Pid()) - before
	// Every connection that was answered is answered again after its
	// idle spell.
	if err := ask(open, answered, "10\n", "29\n"); err != nil {
		b.Fatal(err)
	}
	return float64(grown) / float64(conns), took
}

// residentBytes reads a process's resident set size from /proc.
func residentBytes(b *testing.B, pid int) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Skip("needs /proc:", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in", pid)
	return 0
}
