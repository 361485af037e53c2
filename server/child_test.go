package server_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

// roleStrategyServer is a child process that serves the strategy envStrategy
// names, with at most envFileLimit descriptors if that is set, in Python
// mode with envGIL's switch interval if that is set, with a recorder of
// envRecord's budget in bytes (0: the default) if that is set, until its
// stdin closes.
const (
	roleStrategyServer = "test-strategy-server"
	envStrategy        = "PRIMETIME_TEST_STRATEGY"
	envFileLimit       = "PRIMETIME_TEST_FILE_LIMIT"
	envGIL             = "PRIMETIME_TEST_GIL"
	envRecord          = "PRIMETIME_TEST_RECORD"
)

func init() {
	reexec.RegisterRole(roleStrategyServer, func() error {
		os.Unsetenv(reexec.EnvMarker)
		st, err := strategy.Parse(os.Getenv(envStrategy))
		if err != nil {
			return err
		}
		if limit := os.Getenv(envFileLimit); limit != "" {
			n, err := strconv.ParseUint(limit, 10, 64)
			if err != nil {
				return err
			}
			if err := limitFiles(n); err != nil {
				return err
			}
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &server.Server{Strategy: st}
		if gil := os.Getenv(envGIL); gil != "" {
			if srv.GIL, err = time.ParseDuration(gil); err != nil {
				return err
			}
		}
		if budget := os.Getenv(envRecord); budget != "" {
			n, err := strconv.Atoi(budget)
			if err != nil {
				return err
			}
			srv.Recorder = server.NewRecorder(server.RecorderOptions{Budget: n})
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(l) }()
		fmt.Println(childPrefix, l.Addr())
		io.Copy(io.Discard, os.Stdin)
		srv.Close()
		<-served
		return nil
	})
}

// childPrefix starts the line in which a child server reports its address.
const childPrefix = "test-server"

// startChild starts this test program in role, a server that prints
// childPrefix and its loopback address and serves until its stdin closes,
// with env added to its environment and its stderr on stderr (os.Stderr if
// nil).
func startChild(tb testing.TB, role string, stderr io.Writer, env ...string) *reexec.Server {
	tb.Helper()
	cmd, err := reexec.Command("", nil, role, stderr, env...)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := reexec.StartServer(cmd, childPrefix, testkit.Bound)
	if err != nil {
		tb.Fatalf("the %s child did not start: %v", role, err)
	}
	return s
}
