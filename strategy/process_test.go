package strategy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/internal/worker"
)

func TestAWorkerKilledAsItStartsFailsOnlyItsRequestAsALostWorker(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh")
	}
	// Every start of this "worker" is killed before its handshake, and
	// leaves a line in tries.
	tries := filepath.Join(t.TempDir(), "tries")
	pool := &procPool{
		free: make(chan struct{}, 1),
		opts: worker.Options{Path: "/bin/sh", Args: []string{"-c", `echo try >>"$0"; kill -9 $$`, tries}, StartTimeout: testkit.Bound},
	}
	pool.put(nil) // a slot whose worker is started on first use
	defer pool.Stop()

	_, err := pool.call(context.Background(), echo, []byte("hi"))
	require.Error(t, err)
	assert.ErrorIs(t, err, worker.ErrExited)
	assert.Equal(t, "worker exited before its handshake (signal: killed)", err.Error(),
		"a lost worker, not a program without primetime.MaybeWorker")
	recorded, err := os.ReadFile(tries)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(recorded), "try"), "started once more before the request failed")
	assert.Len(t, pool.free, 1, "the slot is back, to be started again on its next use")
}
