package loadtest

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envListen makes this test binary a server of the line protocol that
// answers "2" to every line: see listenAndAnswer.
const envListen = "LOADTEST_LISTEN"

// listenAndAnswer listens on a loopback port, prints its address, answers
// every line with "2" until its stdin closes, and exits.
func listenAndAnswer() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(1)
	}
	os.Stdout.WriteString(l.Addr().String() + "\n")
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					if _, err := br.ReadSlice('\n'); err != nil {
						return
					}
					if _, err := c.Write(two); err != nil {
						return
					}
				}
			}()
		}
	}()
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

func TestAResultSaysWhetherTheServerSharedTheGeneratorsProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux's /proc tells which process listens")
	}
	sc := Scenario{Duration: 100 * time.Millisecond, Interval: 50 * time.Millisecond, LongAfter: -1}

	here := startFake(t, "answer")
	sc.Addr = here.addr()
	res, err := Run(context.Background(), sc, nil)
	require.NoError(t, err)
	assert.True(t, res.Conditions.ServerInProcess, "a server in this test's process")
	assert.Contains(t, res.Conditions.String(), "the server in the generator's process")
	assert.False(t, res.Summary.GeneratorBound, "the generator's CPU is the server's too: no verdict")

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envListen+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer cmd.Wait()
	defer stdin.Close()
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	sc.Addr = addr[:len(addr)-1]
	res, err = Run(context.Background(), sc, nil)
	require.NoError(t, err)
	assert.False(t, res.Conditions.ServerInProcess, "a server in a process of its own")
	assert.Positive(t, res.Summary.Answers)
}
