package gil

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/testkit"
)

// osThreads returns how many OS threads this process has.
func osThreads(t *testing.T) int {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}

func TestThousandsOfWaitersDoNotNeedAThreadEach(t *testing.T) {
	const waiters = 2000
	g := New(time.Second)
	holder := g.NewThread(Connection)
	holder.take()
	var wg sync.WaitGroup
	for range waiters {
		wg.Go(func() {
			th := g.NewThread(Connection)
			th.take()
			th.drop(Done)
		})
	}
	for deadline := time.Now().Add(testkit.Bound); g.waiting() < waiters; {
		require.True(t, time.Now().Before(deadline), "only %d of %d goroutines waited for the lock", g.waiting(), waiters)
		time.Sleep(time.Millisecond)
	}
	// Waiters past the first threadWaiters sleep without a thread.
	assert.Less(t, osThreads(t), waiters/4, "a thread for each waiter")
	holder.drop(Done)
	wg.Wait()
}
