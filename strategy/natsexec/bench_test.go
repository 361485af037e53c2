package natsexec_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/strategy"
	"github.com/primetime-lab/primetime/strategy/natsexec"
)

// BenchmarkRoundTrip measures one small task (the first prime) through the
// NATS executor, one at a time, whose worker takes tasks from a NATS server
// in this process; nats-floor is a bare request and reply through the same
// server, to a subscriber in this process: the transport's own round trip.
// nats:1-beside-floor alternates batches of nats:1 and of the floor whose
// responder is a process of its own, as a worker is, and reports both and
// their difference: the executor's and the worker's own share.
func BenchmarkRoundTrip(b *testing.B) {
	url := benchNATS(b)
	b.Run("nats:1", func(b *testing.B) { roundTrips(b, natsOne(b, url)) })
	b.Run("nats-floor", func(b *testing.B) { roundTrips(b, natsFloor(b, url, false)) })
	b.Run("nats-floor-rejoin", func(b *testing.B) { roundTrips(b, natsFloor(b, url, true)) })
	b.Run("nats-floor-process", func(b *testing.B) { roundTrips(b, natsFloorProcess(b, url)) })
	b.Run("nats:1-beside-floor", func(b *testing.B) {
		ours, floor := natsOne(b, url), natsFloorProcess(b, url)
		const batch = 200
		var tOurs, tFloor time.Duration
		timed := func(trip func() error) time.Duration {
			start := time.Now()
			for range batch {
				if err := trip(); err != nil {
					b.Fatal(err)
				}
			}
			return time.Since(start)
		}
		for i := 0; b.Loop(); i++ {
			if i%2 == 0 {
				tOurs += timed(ours)
				tFloor += timed(floor)
			} else {
				tFloor += timed(floor)
				tOurs += timed(ours)
			}
		}
		n := float64(b.N * batch)
		b.ReportMetric(tOurs.Seconds()*1e6/n, "nats:1-µs")
		b.ReportMetric(tFloor.Seconds()*1e6/n, "floor-µs")
		b.ReportMetric((tOurs-tFloor).Seconds()*1e6/n, "own-µs")
	})
}

// roundTrips runs trip once per iteration.
func roundTrips(b *testing.B, trip func() error) {
	b.ReportAllocs()
	for b.Loop() {
		if err := trip(); err != nil {
			b.Fatal(err)
		}
	}
}

// natsOne starts a NATS executor of one task in flight on the NATS server
// at url, stopped when the benchmark ends, and returns one round trip of a
// small task through it.
func natsOne(b *testing.B, url string) func() error {
	r, err := natsexec.New(1, natsexec.Conn{URL: url}).Start(strategy.Env{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.Stop)
	ctx := context.Background()
	payload := []byte("1")
	type answer struct {
		b   []byte
		err error
	}
	c := make(chan answer, 1)
	done := func(b []byte, err error) { c <- answer{b, err} }
	return func() error {
		r.Submit(ctx, primetime.Prime, payload, done)
		if a := <-c; a.err != nil || string(a.b) != "2" {
			return fmt.Errorf("got %q, %v", a.b, a.err)
		}
		return nil
	}
}

// The role of the floor's responder in a process of its own, and its
// ready line.
const (
	roleFloor      = "nats-floor-responder"
	envFloorURL    = "PRIMETIME_FLOOR_NATS"
	floorReadyLine = "nats-floor-ready"
)

func init() { reexec.RegisterRole(roleFloor, floorResponder) }

// floorResponder answers "2" to every request on the subject floor, in
// the queue group floor, joining it for one message at a time as a worker
// does, with GOMAXPROCS 1 as a worker has, until its stdin closes.
func floorResponder() error {
	nc, err := nats.Connect(os.Getenv(envFloorURL))
	if err != nil {
		return err
	}
	defer nc.Close()
	in := make(chan *nats.Msg, 1)
	join := func() error {
		sub, err := nc.ChanQueueSubscribe("floor-process", "floor", in)
		if err == nil {
			err = sub.AutoUnsubscribe(1)
		}
		return err
	}
	if err := join(); err != nil {
		return err
	}
	if err := nc.Flush(); err != nil {
		return err
	}
	fmt.Println(floorReadyLine, os.Getpid())
	stdin := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(stdin)
	}()
	for {
		select {
		case m := <-in:
			join()
			m.Respond([]byte("2"))
		case <-stdin:
			return nil
		}
	}
}

// natsFloorProcess is natsFloor with its rejoining responder in a process
// of its own, as a worker is: the transport's round trip through two
// processes besides the NATS server's.
func natsFloorProcess(b *testing.B, url string) func() error {
	cmd, err := reexec.Command("", nil, roleFloor, os.Stderr, envFloorURL+"="+url, "GOMAXPROCS=1")
	if err != nil {
		b.Fatal(err)
	}
	p, err := reexec.StartServer(cmd, floorReadyLine, 10*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Stop(5 * time.Second) })
	return floorRequester(b, url, "floor-process")
}

// floorRequester connects to the NATS server at url, until the benchmark
// ends, and returns one bare request on subject and its reply.
func floorRequester(b *testing.B, url, subject string) func() error {
	nc, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	return func() error {
		_, err := nc.Request(subject, []byte("1"), time.Second)
		return err
	}
}

// natsFloor starts a responder of bare requests through the NATS server at
// url, a subscriber of a queue group in this process, stopped when the
// benchmark ends, and returns one request and its reply; with rejoin, the
// subscriber is a member for one message at a time, as a worker is.
func natsFloor(b *testing.B, url string, rejoin bool) func() error {
	responder, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	subject := "floor"
	if rejoin {
		subject = "floor-rejoin"
	}
	in := make(chan *nats.Msg, 1)
	join := func() error {
		sub, err := responder.ChanQueueSubscribe(subject, subject, in)
		if err == nil && rejoin {
			err = sub.AutoUnsubscribe(1)
		}
		return err
	}
	if err := join(); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range in {
			if rejoin {
				join()
			}
			m.Respond([]byte("2"))
		}
	}()
	responder.Flush()
	b.Cleanup(func() {
		close(in)
		<-done
		responder.Close()
	})
	return floorRequester(b, url, subject)
}

// benchNATS starts a NATS server in this process and a worker of this test
// binary, stopped when the benchmark ends, and returns the server's URL.
func benchNATS(b *testing.B) string {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(5 * time.Second) {
		b.Fatal("the NATS server did not start")
	}
	ctx, stop := context.WithCancel(context.Background())
	ready, served := make(chan struct{}), make(chan error, 1)
	go func() {
		served <- natsexec.Workers{Conn: natsexec.Conn{URL: ns.ClientURL()}, N: 1, Ready: func([]int) { close(ready) }}.Serve(ctx)
	}()
	b.Cleanup(func() {
		stop()
		<-served
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	select {
	case <-ready:
	case err := <-served:
		b.Fatal(err)
	}
	return ns.ClientURL()
}
