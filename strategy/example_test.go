package strategy_test

import (
	"fmt"

	"github.com/primetime-lab/primetime/strategy"
)

// Strategies have a text form, for command lines and scripts, that
// round-trips through Parse and String.
func ExampleParse() {
	for _, text := range []string{"perconn", "pool:8", "loop+goroutines:4", "perconn+procs:2", "pool:0"} {
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
	// strategy: "pool:0": pool size "0" is not a whole number from 1 to 65536
	// pool:8+goroutines:2
}
