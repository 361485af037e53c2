package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

// roleStrategyServer is a child process that serves the strategy envStrategy
// names, with at most envFileLimit descriptors if that is set, until its
// stdin closes.
const (
	roleStrategyServer = "test-strategy-server"
	envStrategy        = "PRIMETIME_TEST_STRATEGY"
	envFileLimit       = "PRIMETIME_TEST_FILE_LIMIT"
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
		served := make(chan error, 1)
		go func() { served <- srv.Serve(l) }()
		fmt.Println(l.Addr())
		io.Copy(io.Discard, os.Stdin)
		srv.Close()
		<-served
		return nil
	})
}

// childServer is a server in a child process.
type childServer struct {
	addr string
	pid  int
	stop func() error // closes its stdin and waits for it
}

// startChild starts this test program in role, a server that prints its
// loopback address and serves until its stdin closes, with env added to
// its environment and its stderr on stderr (os.Stderr if nil).
func startChild(tb testing.TB, role string, stderr io.Writer, env ...string) childServer {
	tb.Helper()
	cmd, err := reexec.Command("", nil, role, stderr, env...)
	if err != nil {
		tb.Fatal(err)
	}
	stdin, stdout, err := reexec.StartPiped(cmd)
	if err != nil {
		tb.Fatal(err)
	}
	defer stdout.Close()
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		tb.Fatalf("the %s child did not start: %v", role, err)
	}
	return childServer{addr: strings.TrimSpace(addr), pid: cmd.Process.Pid, stop: func() error {
		stdin.Close()
		return cmd.Wait()
	}}
}
