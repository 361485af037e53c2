package natsexec_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
	"github.com/primetime-lab/primetime/strategy/natsexec"
)

// Tasks on other machines: a NATS server (here one in this process, on
// loopback; in production one that every machine reaches), workers that
// take tasks from it (here two processes of this program; anywhere, with
// "primetime worker -nats URL"), and a server whose tasks go to them.
func ExampleWorkers() {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	ns.Start()
	defer ns.WaitForShutdown()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(5 * time.Second) {
		fmt.Println("the NATS server did not start")
		return
	}
	url := ns.ClientURL()

	ctx, stop := context.WithCancel(context.Background())
	ready, served := make(chan []int, 1), make(chan error, 1)
	go func() {
		served <- natsexec.Workers{Conn: natsexec.Conn{URL: url}, N: 2, Ready: func(pids []int) { ready <- pids }}.Serve(ctx)
	}()
	defer func() { stop(); <-served }()
	select {
	case pids := <-ready:
		fmt.Println(len(pids), "workers")
	case err := <-served:
		fmt.Println(err)
		return
	}

	s, _ := strategy.Parse("loop+nats:2")
	srv := &server.Server{Strategy: natsexec.With(s, natsexec.Conn{URL: url})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	serving := make(chan error, 1)
	go func() { serving <- srv.Serve(l) }()
	defer func() { srv.Close(); <-serving }()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Fprintf(c, "10\n")
	answer, err := bufio.NewReader(c).ReadString('\n')
	fmt.Print(answer, err, "\n")
	// Output:
	// 2 workers
	// 29
	// <nil>
}
