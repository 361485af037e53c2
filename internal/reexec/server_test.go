package reexec

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAServerReportsItsAddressAndStopsWhenItsStdinCloses(t *testing.T) {
	s, err := StartServer(exec.Command("sh", "-c", `echo "test-server/1 127.0.0.1:7"; read x || exit 0`), "test-server/1", 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:7", s.Addr)
	assert.Positive(t, s.Pid())
	assert.NoError(t, s.Stop(10*time.Second), "it ended by itself, cleanly")
}

func TestAServerThatWritesSomethingElseIsKilled(t *testing.T) {
	_, err := StartServer(exec.Command("sh", "-c", `echo hello; read x`), "test-server/1", 10*time.Second)
	var se *StartError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "hello\n", se.Line)
	assert.NoError(t, se.Read)
	assert.ErrorContains(t, se.Exit, "killed")
}

func TestAServerThatIgnoresItsStdinIsKilled(t *testing.T) {
	s, err := StartServer(exec.Command("sh", "-c", `echo "test-server/1 x"; exec sleep 60`), "test-server/1", 10*time.Second)
	require.NoError(t, err)
	assert.ErrorIs(t, s.Stop(0), ErrKilled)
}

func TestAServerThatDoesNotStartSaysWhatItPrinted(t *testing.T) {
	_, err := StartServer(exec.Command("sh", "-c", `echo "no such module: foo" >&2; exit 3`), "test-server/1", 10*time.Second)
	var se *StartError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "no such module: foo", se.Stderr)
	assert.False(t, se.Killed, "it exited by itself")
	assert.ErrorContains(t, err, `exit status 3; it printed: "no such module: foo"`)

	// One that says nothing in time: its deadline's error, with what it
	// printed meanwhile.
	_, err = StartServer(exec.Command("sh", "-c", `echo "loading..." >&2; exec sleep 60`), "test-server/1", 50*time.Millisecond)
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, se.Read, os.ErrDeadlineExceeded)
	assert.Equal(t, "loading...", se.Stderr)

	_, err = StartServer(exec.Command("sh", "-c", `kill -9 $$`), "test-server/1", 10*time.Second)
	require.ErrorAs(t, err, &se)
	assert.True(t, se.Killed, "killed from outside")
	assert.Equal(t, "it was killed from outside before it was ready", se.Advice())
}
