// A service as a Go engineer writes one: net/http, with a fast handler
// (/fast) and a CPU-bound one (/slow?n=N, N iterations). Usage: go run
// nethttp_server.go [PORT]; it prints "listening on http://127.0.0.1:PORT"
// and ends when its stdin closes. Run it with GOMAXPROCS=1 for a container
// limited to one CPU.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	http.HandleFunc("/fast", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	http.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil {
			n = 1000000
		}
		x := 0
		for i := range n {
			x += i % 7
		}
		io.WriteString(w, strconv.Itoa(x))
	})
	port := "0"
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening on http://%s\n", l.Addr())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		l.Close()
	}()
	http.Serve(l, nil)
}
