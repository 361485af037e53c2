package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/primetime-lab/primetime/internal/reexec"
)

// BenchmarkShapeFloor measures the strategies whose shape, not their code,
// sets them apart from the goroutine-per-connection baseline (Serial, which
// serves one connection at a time; the process pool, whose every task
// crosses to another process and back; the event loop, which has one
// thread for every connection) beside a minimal server of the same shape,
// and beside the baseline, in the same run, rotating which goes first. The
// minimal server is the floor that the kernel and the Go runtime set for
// that shape: ratio (the strategy's rate over the floor's) says how
// much the strategy's own code costs on top of its shape, and floor-ratio
// (the floor's rate over the baseline's) how much the shape itself costs.
//
// The serial floor accepts, serves and closes one connection at a time on
// one goroutine; as in BenchmarkThroughput, every request uses a new
// connection. The process-pool floor serves each connection on a goroutine,
// writes each request line to an idle worker process (the one returned
// last, as the pool does), reads the answer line back and writes it out;
// its workers run with GOMAXPROCS=1 and answer lines in a plain loop. The
// event loop's floor is a minimal single-threaded epoll server
// (serveMinimalEpoll); the loops with an executor are measured against it
// too, so their ratio includes the executor's hand-offs.
func BenchmarkShapeFloor(b *testing.B) {
	const batch = 4000
	floors := []struct {
		strategy string
		floor    func(b *testing.B, l net.Listener) (stop func())
	}{
		{"serial", func(_ *testing.B, l net.Listener) func() { return serveMinimalSerial(l) }},
		{"procpool:2", func(b *testing.B, l net.Listener) func() { return serveMinimalProcessPool(b, l, 2) }},
		{"loop", serveMinimalEpoll},
		{"loop+goroutines:2", serveMinimalEpoll},
		{"loop+procs:2", serveMinimalEpoll},
	}
	for _, f := range floors {
		for _, clients := range []int{1, 4, 16, 64} {
			b.Run(fmt.Sprintf("%s/clients=%d", f.strategy, clients), func(b *testing.B) {
				reconnect := f.strategy == "serial"
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				stopFloor := f.floor(b, l)
				defer stopFloor()
				floorAddr := l.Addr().String()
				baseAddr, stopBase := baseline(b)
				defer stopBase()
				addr, stop := serveFor(b, f.strategy)
				defer stop()
				var base, floor, strat time.Duration
				for i := 0; b.Loop(); i++ {
					// Rotate which goes first.
					for j := range 3 {
						switch (i + j) % 3 {
						case 0:
							base += load(b, baseAddr, clients, batch, reconnect)
						case 1:
							floor += load(b, floorAddr, clients, batch, reconnect)
						case 2:
							strat += load(b, addr, clients, batch, reconnect)
						}
					}
				}
				n := float64(b.N * batch)
				b.ReportMetric(n/base.Seconds(), "base-req/s")
				b.ReportMetric(n/floor.Seconds(), "floor-req/s")
				b.ReportMetric(n/strat.Seconds(), "req/s")
				b.ReportMetric(base.Seconds()/floor.Seconds(), "floor-ratio")
				b.ReportMetric(floor.Seconds()/strat.Seconds(), "ratio")
			})
		}
	}
}

// serveMinimalSerial serves l one connection at a time, on one goroutine,
// until stop is called. Stop it only once its clients have closed their
// connections.
func serveMinimalSerial(l net.Listener) (stop func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		br := bufio.NewReader(nil)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			br.Reset(c)
			serveLines(c, br, runPrime)
			c.Close()
		}
	}()
	return func() {
		l.Close()
		<-done
	}
}

// roleMinimalWorker is the worker process of the minimal process pool.
const roleMinimalWorker = "test-minimal-worker"

func init() {
	reexec.RegisterRole(roleMinimalWorker, func() error {
		br := bufio.NewReader(os.Stdin)
		var out []byte
		for {
			line, err := br.ReadSlice('\n')
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			answer, err := runPrime(line[:len(line)-1])
			if err != nil {
				return err
			}
			out = append(append(out[:0], answer...), '\n')
			if _, err := os.Stdout.Write(out); err != nil {
				return err
			}
		}
	})
}

// minimalWorker is the minimal process pool's handle on one worker.
type minimalWorker struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// serveMinimalProcessPool serves l with n worker processes, as the process
// pool's floor, until stop is called; stop also ends the workers and waits
// for them.
func serveMinimalProcessPool(b *testing.B, l net.Listener, n int) (stop func()) {
	var (
		mu   sync.Mutex
		idle []*minimalWorker // the worker returned last is at the end
		free = make(chan struct{}, n)
	)
	stopWorkers := func() {
		for _, w := range idle {
			w.in.Close()
			w.cmd.Wait()
		}
	}
	for range n {
		cmd, in, out, err := startRole(roleMinimalWorker, "GOMAXPROCS=1")
		if err != nil {
			stopWorkers()
			b.Fatal(err)
		}
		idle = append(idle, &minimalWorker{cmd: cmd, in: in, out: bufio.NewReader(out)})
		free <- struct{}{}
	}
	ask := func(line []byte) ([]byte, error) {
		<-free
		mu.Lock()
		w := idle[len(idle)-1]
		idle = idle[:len(idle)-1]
		mu.Unlock()
		defer func() {
			mu.Lock()
			idle = append(idle, w)
			mu.Unlock()
			free <- struct{}{}
		}()
		if _, err := w.in.Write(append(line, '\n')); err != nil {
			return nil, err
		}
		answer, err := w.out.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		return answer[:len(answer)-1], nil
	}

	stopServing := serveLinesPerConn(l, ask)
	return func() {
		stopServing()
		stopWorkers()
	}
}
