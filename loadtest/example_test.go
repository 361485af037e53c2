package loadtest_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

// Play a short version of the lecture's scenario against a server and read
// the result as data.
func ExampleRun() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &server.Server{Strategy: strategy.PerConn()}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	defer func() {
		srv.Shutdown(context.Background())
		<-served
	}()

	res, err := loadtest.Run(context.Background(), loadtest.Scenario{
		Addr:      l.Addr().String(),
		Clients:   2,
		Long:      "1000",
		LongAfter: 100 * time.Millisecond,
		Duration:  400 * time.Millisecond,
		Interval:  100 * time.Millisecond,
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("intervals:", len(res.Intervals))
	fmt.Println("long request answered:", res.Summary.LongAnswered, res.Summary.LongAnswer)
	fmt.Println("small requests answered:", res.Summary.Answers > 0, "errors:", res.Summary.Errors)
	// Output:
	// intervals: 4
	// long request answered: true 7919
	// small requests answered: true errors: 0
}
