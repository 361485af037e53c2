package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/internal/testkit"
)

// The lab command serves its page on a free loopback port, says where, and
// stops every server it started when asked to stop.
func TestTheLabCommandServesUntilItIsStopped(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	out, w := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"lab"}, w, io.Discard)
		w.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	url, _, ok := strings.Cut(strings.TrimPrefix(line, "lab: "), " ")
	require.True(t, ok, line)
	assert.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)
	copied := make(chan struct{})
	go func() {
		io.Copy(io.Discard, out)
		close(copied)
	}()

	resp, err := http.Post(url+"api/start", "application/json", strings.NewReader(`{"preset":"go"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, proctest.Children(), "the section's server runs")

	stop()
	assert.Equal(t, 0, testkit.Receive(t, code, "the lab's exit"))
	assert.Empty(t, proctest.Children(), "no server is left")
	testkit.Receive(t, copied, "the end of the lab's output")
}
