// Package nohooktest is a test package that uses a process pool but has no
// TestMain calling primetime.MaybeWorker: the mistake that
// TestTestBinaryWithoutTheWorkerCallRunsItsTestsOnce makes on purpose. Each
// test appends the pid of the process that runs it to $PIDFILE.
package nohooktest

import (
	"fmt"
	"net"
	"os"
	"testing"

	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

func recordPid(t *testing.T) {
	f, err := os.OpenFile(os.Getenv("PIDFILE"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fmt.Fprintln(f, os.Getpid())
}

func TestServeWithAProcessPool(t *testing.T) {
	recordPid(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &server.Server{Strategy: strategy.ProcessPool(1)}
	fmt.Println("Serve:", srv.Serve(l))
}

func TestSomethingElse(t *testing.T) { recordPid(t) }
