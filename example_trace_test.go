package primetime_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

// Record who runs when: a Recorder on the server keeps its scheduling
// events, and WriteTrace writes them in the Trace Event Format, which
// ui.perfetto.dev opens. In Python mode each interpreter thread's holds of
// the lock are there, with the request they served and why each ended.
func Example_trace() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &server.Server{
		Strategy: strategy.PerConn(),
		GIL:      5 * time.Millisecond,
		Recorder: server.NewRecorder(server.RecorderOptions{Anchor: "100"}),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	fmt.Println(ask(l.Addr().String(), "100"))
	srv.Shutdown(context.Background())
	<-served

	var trace bytes.Buffer
	if err := srv.WriteTrace(&trace); err != nil {
		fmt.Println(err)
		return
	}
	var tef struct {
		TraceEvents []struct {
			Cat, Name string
			Args      map[string]any
		}
	}
	if err := json.Unmarshal(trace.Bytes(), &tef); err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range tef.TraceEvents {
		if e.Cat == "gil" && e.Name == "hold" && e.Args["request"] == "100" && e.Args["ended"] == "done" {
			fmt.Println("the thread of request 100 held the lock until its task was", e.Args["ended"])
		}
	}
	// Output:
	// 541 <nil>
	// the thread of request 100 held the lock until its task was done
}
