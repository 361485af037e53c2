package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/testkit"
)

// storm opens conns connections at once; each asks one request, reads
// the answer and closes. It returns how many got the right answer.
func storm(t *testing.T, addr string, conns int) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	var firstErr error
	for range conns {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", addr, testkit.Bound)
			if err == nil {
				defer c.Close()
				c.SetDeadline(time.Now().Add(3 * testkit.Bound))
				_, err = io.WriteString(c, "1\n")
			}
			var line string
			if err == nil {
				line, err = bufio.NewReader(c).ReadString('\n')
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil && line == "2\n" {
				ok++
			} else if firstErr == nil {
				firstErr = fmt.Errorf("answer %q, %v", line, err)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Log("first failure:", firstErr)
	}
	return ok
}

func TestConnectionStormAgainstEveryStrategy(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 5,000 connections per strategy")
	}
	const conns = 5000
	for _, text := range []string{"serial", "perconn", "pool:8", "loop", "loop+goroutines:2", "procpool:2", "loop+procs:2"} {
		t.Run(text, func(t *testing.T) {
			ts := startWith(t, text, nil)
			assert.Equal(t, conns, storm(t, ts.addr, conns), "every connection is answered")
			st := ts.Stats()
			assert.Equal(t, uint64(conns), st.Answered)
		})
	}
}

func TestServerOutOfDescriptorsKeepsServingAndRecovers(t *testing.T) {
	for _, text := range []string{"perconn", "loop"} {
		t.Run(text, func(t *testing.T) { outOfDescriptors(t, text) })
	}
}

func outOfDescriptors(t *testing.T, text string) {
	var stderr syncBuffer
	child := startChild(t, roleStrategyServer, &stderr, envStrategy+"="+text, envFileLimit+"=64")
	addr := child.Addr

	// Hold more connections open than the server has descriptors for.
	var held []*testkit.Client
	for range 80 {
		held = append(held, testkit.Dial(t, addr))
	}
	// The first ones are served; the server logs its EMFILE and retries.
	assert.Equal(t, "2", held[0].Ask("1"))
	assert.Equal(t, "3", held[1].Ask("2"))
	for _, c := range held {
		c.Conn().Close()
	}
	// With the descriptors free again, a storm is served in full.
	assert.Equal(t, 200, storm(t, addr, 200))
	require.NoError(t, child.Stop(testkit.Bound))
	assert.Contains(t, stderr.String(), "failed; retrying")
	assert.Contains(t, stderr.String(), "too many open files")
	assert.NotContains(t, stderr.String(), "cannot serve", "no connection was dropped")
}
