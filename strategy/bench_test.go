package strategy

import (
	"context"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/primetime-lab/primetime"
)

// BenchmarkRoundTrip measures one small task (the first prime) through each
// executor, one at a time: the cost an executor adds to every request. The
// NATS executor's workers take tasks from a NATS server in this process;
// nats-floor is a bare request and reply through the same server, to a
// subscriber in this process: the transport's own round trip.
func BenchmarkRoundTrip(b *testing.B) {
	url := benchNATS(b)
	for _, e := range []Executor{Inline(), Goroutines(1), Processes(1), NATS(1, NATSConn{URL: url})} {
		b.Run(e.String(), func(b *testing.B) {
			run, err := startRunner(e)
			if err != nil {
				b.Fatal(err)
			}
			defer run.Stop()
			ctx := context.Background()
			payload := []byte("1")
			b.ReportAllocs()
			for b.Loop() {
				answer, err := run.run(ctx, primetime.Prime, payload)
				if err != nil || string(answer) != "2" {
					b.Fatalf("got %q, %v", answer, err)
				}
			}
		})
	}
	b.Run("nats-floor", func(b *testing.B) { natsFloor(b, url, false) })
	b.Run("nats-floor-rejoin", func(b *testing.B) { natsFloor(b, url, true) })
}

// natsFloor measures bare requests and replies through the NATS server at
// url to a subscriber of a queue group in this process; with rejoin, the
// subscriber is a member for one message at a time, as a worker is.
func natsFloor(b *testing.B, url string, rejoin bool) {
	responder, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	defer responder.Close()
	in := make(chan *nats.Msg, 1)
	join := func() error {
		sub, err := responder.ChanQueueSubscribe("floor", "floor", in)
		if err == nil && rejoin {
			err = sub.AutoUnsubscribe(1)
		}
		return err
	}
	if err := join(); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	defer func() { <-done }()
	defer close(in)
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
	{
		nc, err := nats.Connect(url)
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := nc.Request("floor", []byte("1"), time.Second); err != nil {
				b.Fatal(err)
			}
		}
	}
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
		served <- NATSWorkers{Conn: NATSConn{URL: ns.ClientURL()}, N: 1, Ready: func([]int) { close(ready) }}.Serve(ctx)
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
