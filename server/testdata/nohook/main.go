// Command nohook uses a process pool but forgets primetime.MaybeWorker: its
// worker processes run main again instead of serving tasks.
package main

import (
	"fmt"
	"net"
	"os"

	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	srv := &server.Server{Strategy: strategy.ProcessPool(1)}
	fmt.Fprintln(os.Stderr, srv.Serve(l))
	os.Exit(1)
}
