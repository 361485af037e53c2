//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/testkit"
)

// TestMergeReportAndDiffStopAtASignal runs each command on a file that
// never ends (a FIFO nobody writes to): once it reads, SIGINT ends it.
func TestMergeReportAndDiffStopAtASignal(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "run.json")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for _, args := range [][]string{{"merge", fifo}, {"report", fifo}, {"diff", fifo, fifo}} {
		t.Run(args[0], func(t *testing.T) {
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), envMainArgs+"="+strings.Join(args, "\x1f"))
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			require.NoError(t, cmd.Start())
			// Opening the FIFO's other end waits for the command to
			// open it: it is reading.
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			require.NoError(t, err)
			defer w.Close()
			require.NoError(t, cmd.Process.Signal(os.Interrupt))
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				var ee *exec.ExitError
				require.True(t, errors.As(err, &ee), "%v: %s", err, out.String())
				ws := ee.Sys().(syscall.WaitStatus)
				assert.True(t, ws.Signaled() && ws.Signal() == syscall.SIGINT, "%v: %s", err, out.String())
			case <-time.After(testkit.Bound):
				cmd.Process.Kill()
				<-exited
				t.Fatalf("primetime %s went on after SIGINT: %s", args[0], out.String())
			}
		})
	}
}
