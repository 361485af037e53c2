//go:build linux

package worker

import (
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIdleReaderReadsABlockingFileRawOnlyWhileIdle(t *testing.T) {
	var fds [2]int
	require.NoError(t, syscall.Pipe(fds[:])) // blocking, as a worker's stdin
	r, w := os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
	defer r.Close()
	defer w.Close()

	idle := true
	rd := idleReader(r, func() bool { return idle })
	raw, ok := rd.(*rawIdleReader)
	require.True(t, ok, "a blocking pipe is read with raw reads while idle")
	buf := make([]byte, 8)

	_, err := w.Write([]byte("abc"))
	require.NoError(t, err)
	n, err := raw.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(buf[:n]))

	idle = false // a task runs: reads go through the file
	_, err = w.Write([]byte("de"))
	require.NoError(t, err)
	n, err = raw.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "de", string(buf[:n]))

	// Data that comes after the raw wait has given up is read the
	// ordinary way. (Whichever way reads it, it must arrive whole.)
	idle = true
	write := time.AfterFunc(2*rawWait, func() { w.Write([]byte("late")) })
	defer write.Stop()
	n, err = raw.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "late", string(buf[:n]))

	require.NoError(t, w.Close())
	_, err = raw.Read(buf)
	assert.ErrorIs(t, err, io.EOF, "the writer's close reads as EOF")
}

func TestIdleReaderLeavesOtherReadersAlone(t *testing.T) {
	pr, pw, err := os.Pipe() // the poller's: non-blocking
	require.NoError(t, err)
	defer pr.Close()
	defer pw.Close()
	assert.Equal(t, io.Reader(pr), idleReader(pr, func() bool { return true }))

	other := io.LimitReader(pr, 1)
	assert.Equal(t, other, idleReader(other, func() bool { return true }))
}
