package server_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/server"
)

// debugVars reads the server's part of /debug/vars.
func debugVars(t *testing.T, base string) map[string]any {
	t.Helper()
	resp, err := http.Get(base + "/debug/vars")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var all map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&all))
	require.Contains(t, all, "memstats")
	return all["primetime"].(map[string]any)
}

func TestDebugListenerShowsCountersAndProfilesAndStopsWithTheServer(t *testing.T) {
	var log syncBuffer
	srv := &server.Server{Strategy: parse(t, "procpool:2"), GIL: time.Millisecond, DebugAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(&log, nil))}
	ts := start(t, srv)
	var base string
	<-waitUntil(func() bool {
		m := regexp.MustCompile(`msg="debug listener" addr=(\S+)`).FindStringSubmatch(log.String())
		if m != nil {
			base = "http://" + m[1]
		}
		return m != nil
	})
	require.NotEmpty(t, base, "the server logged its debug listener's address")

	c := dial(t, ts.addr)
	assert.Equal(t, "29", c.ask("10"))
	vars := debugVars(t, base)
	assert.Equal(t, "procpool:2", vars["strategy"])
	assert.Equal(t, "prime", vars["task"])
	assert.Equal(t, "line", vars["protocol"])
	assert.Equal(t, float64(1), vars["answered"])
	assert.Equal(t, float64(2), vars["workers_alive"])
	assert.Equal(t, "1ms", vars["gil_switch_interval"])
	assert.Contains(t, vars, "gil_switches")
	for range 5 {
		c.ask("10")
	}
	assert.Equal(t, float64(6), debugVars(t, base)["answered"], "the counters move")

	resp, err := http.Get(base + "/debug/pprof/")
	require.NoError(t, err)
	index, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(index), "goroutine")
	resp, err = http.Get(base + "/debug/pprof/goroutine?debug=1")
	require.NoError(t, err)
	profile, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.True(t, strings.HasPrefix(string(profile), "goroutine profile:"), "%.80s", profile)

	require.NoError(t, srv.Close())
	require.ErrorIs(t, ts.serveResult(t), server.ErrServerClosed)
	_, err = http.Get(base + "/debug/vars")
	assert.Error(t, err, "the debug listener closed with the server")
	http.DefaultClient.CloseIdleConnections()
}
