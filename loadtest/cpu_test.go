package loadtest

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGeneratorBoundBothWays(t *testing.T) {
	bound, why := generatorBound([]float64{1.0, 0.95, 1.05}, []float64{0.9, 0.9, 0.85}, 2)
	assert.True(t, bound, "a busy machine, the generator taking the larger share")
	assert.Equal(t, "the load generator used 1.0 of 2 CPUs, the server 0.9", why)

	bound, _ = generatorBound([]float64{0.6, 0.6, 0.6}, []float64{1.3, 1.3, 1.3}, 2)
	assert.False(t, bound, "a busy machine, the server taking the larger share: the server is the limit")
	bound, _ = generatorBound([]float64{0.4, 0.4, 0.4}, []float64{0.4, 0.4, 0.4}, 2)
	assert.False(t, bound, "an idle machine")

	bound, why = generatorBound([]float64{1.9, 1.85}, []float64{-1, -1}, 2)
	assert.True(t, bound, "the server unknown, the generator alone nearly all the CPUs")
	assert.Equal(t, "the load generator used 1.9 of 2 CPUs", why)
	bound, _ = generatorBound([]float64{1.0, 1.0}, []float64{-1, -1}, 2)
	assert.False(t, bound, "the server unknown, the generator half the CPUs")
	bound, _ = generatorBound(nil, nil, 2)
	assert.False(t, bound, "no interval")
}

func TestIntervalsRecordTheCPUOfTheGeneratorAndTheServer(t *testing.T) {
	srv := startFake(t, "answer")
	close(srv.release)
	sc := Scenario{Addr: srv.addr(), ServerPID: os.Getpid(), Duration: 200 * time.Millisecond, Interval: 50 * time.Millisecond, LongAfter: -1}
	res, err := Run(context.Background(), sc, nil)
	require.NoError(t, err)
	for _, iv := range res.Intervals {
		assert.GreaterOrEqual(t, iv.GeneratorCPU, 0.0)
		assert.GreaterOrEqual(t, iv.ServerCPU, 0.0, "the server's CPU, read from /proc")
	}
	sc.ServerPID = 0
	res, err = Run(context.Background(), sc, nil)
	require.NoError(t, err)
	assert.Equal(t, -1.0, res.Intervals[0].ServerCPU, "no server process: unknown")
}

// envSpin makes this test binary spin: see spin.
const envSpin = "LOADTEST_SPIN"

// spinFor is how much CPU the spinning child uses before it says so.
const spinFor = 200 * time.Millisecond

// spin uses spinFor of CPU on one thread, by its own clock, says "spun",
// and waits until its stdin closes.
func spin() {
	for {
		if used, err := selfCPU(); err != nil || used >= spinFor {
			break
		}
	}
	os.Stdout.WriteString("spun\n")
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

func TestTheServersCPUIsMeasuredExactly(t *testing.T) {
	if _, err := processCPU(os.Getpid()); err != nil {
		t.Skipf("no other process's CPU here: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envSpin+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	m := newCPUMeter(0)
	require.NoError(t, cmd.Start())
	defer cmd.Wait()
	defer stdin.Close()
	m.serverPid, m.serverReadable = cmd.Process.Pid, true
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "spun\n", line)
	from := m.at
	_, server := m.read()
	used := server * m.at.Sub(from).Seconds()
	assert.GreaterOrEqual(t, used, spinFor.Seconds()*0.99, "the child's CPU while it spun, in core-seconds")
	assert.LessOrEqual(t, server, float64(runtime.NumCPU()), "never more cores than the machine has")
}
