package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/testkit"
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

	c := testkit.Dial(t, ts.addr)
	assert.Equal(t, "29", c.Ask("10"))
	vars := debugVars(t, base)
	assert.Equal(t, "procpool:2", vars["strategy"])
	assert.Equal(t, "prime", vars["task"])
	assert.Equal(t, "line", vars["protocol"])
	assert.Equal(t, float64(1), vars["answered"])
	assert.Equal(t, float64(2), vars["workers_alive"])
	assert.Equal(t, "1ms", vars["gil_switch_interval"])
	assert.Contains(t, vars, "gil_switches")
	for range 5 {
		c.Ask("10")
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

	get := func(path string) string {
		resp, err := http.Get(base + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(body)
	}
	assert.True(t, strings.HasPrefix(get("/debug/pprof/trace?seconds=0.02"), "go 1."), "an execution trace starts with its version")
	assert.Equal(t, strings.Join(os.Args, "\x00"), get("/debug/pprof/cmdline"))
	pc := reflect.ValueOf(server.ParseProtocol).Pointer()
	assert.Equal(t, fmt.Sprintf("num_symbols: 1\n%#x github.com/primetime-lab/primetime/server.ParseProtocol\n", pc), get(fmt.Sprintf("/debug/pprof/symbol?%#x", pc)))
	resp, err = http.Post(base+"/debug/pprof/symbol", "text/plain", strings.NewReader(fmt.Sprintf("%#x+%#x", pc, pc)))
	require.NoError(t, err)
	symbols, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, 2, strings.Count(string(symbols), "server.ParseProtocol\n"))

	require.NoError(t, srv.Close())
	require.ErrorIs(t, ts.serveResult(t), server.ErrServerClosed)
	_, err = http.Get(base + "/debug/vars")
	assert.Error(t, err, "the debug listener closed with the server")
	http.DefaultClient.CloseIdleConnections()
}
