package compare_test

import (
	"context"
	"fmt"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/compare"
)

// Compare strategies, each server in this process here; by default each
// runs in a child process of its own, which needs primetime.MaybeWorker at
// the top of main.
func ExampleRun() {
	cmp, err := compare.Run(context.Background(), compare.Experiment{
		Scenario:   loadtest.Scenario{Clients: 2, Long: "1000", LongAfter: 100 * time.Millisecond, Duration: 400 * time.Millisecond, Interval: 100 * time.Millisecond},
		Strategies: []string{"serial", "loop"},
		InProcess:  true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, row := range cmp.Rows {
		fmt.Printf("%s: long request answered %v, small ones before it %v\n", row.Label(), row.LongAnswered, row.Before > 0)
	}
	// Output:
	// serial: long request answered true, small ones before it true
	// loop: long request answered true, small ones before it true
}
