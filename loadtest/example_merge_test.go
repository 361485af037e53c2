package loadtest_test

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

// Run two generators against one server from the same moment, one of them
// sending the long request, and merge their runs: the sums and the
// percentiles of all their latencies, interval by interval.
func ExampleMerge() {
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

	at := time.Now().Add(200 * time.Millisecond)
	parts, errs := make([]*loadtest.Result, 2), make([]error, 2)
	var wg sync.WaitGroup
	for i := range parts {
		sc := loadtest.Scenario{Addr: l.Addr().String(), Clients: 1, Long: "1000", LongAfter: 100 * time.Millisecond,
			Duration: 400 * time.Millisecond, Interval: 100 * time.Millisecond, StartAt: at}
		if i > 0 {
			sc.LongAfter = -1 // one generator sends the long request
		}
		wg.Go(func() { parts[i], errs[i] = loadtest.Run(context.Background(), sc, nil) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	merged, err := loadtest.Merge(parts...)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("answers add up:", merged.Summary.Answers == parts[0].Summary.Answers+parts[1].Summary.Answers)
	fmt.Println("clients:", merged.Scenario.Clients, "intervals:", len(merged.Intervals))
	fmt.Println("long request answered:", merged.Summary.LongAnswered, merged.Summary.LongAnswer)
	// Output:
	// answers add up: true
	// clients: 2 intervals: 4
	// long request answered: true 7919
}
