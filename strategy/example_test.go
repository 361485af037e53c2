package strategy_test

import (
	"fmt"

	"github.com/primetime-lab/primetime/strategy"
)

// Strategies have a text form, for command lines and scripts, that
// round-trips through Parse and String.
func ExampleParse() {
	for _, text := range []string{"perconn", "pool:8", "loop+goroutines:4", "perconn+procs:2", "threads"} {
		s, err := strategy.Parse(text)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(s)
	}
	fmt.Println(strategy.Offload(strategy.Pool(8), strategy.Goroutines(2)))
	// Output:
	// perconn
	// pool:8
	// loop+goroutines:4
	// procpool:2
	// strategy: "threads": unknown scheduler "threads" (want serial, perconn, pool:N, loop or procpool:N, optionally followed by +goroutines:N or +procs:N)
	// pool:8+goroutines:2
}
