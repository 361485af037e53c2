package reexec

import (
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
