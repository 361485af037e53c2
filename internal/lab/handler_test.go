package lab

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/loadtest"
)

// startLab serves a lab for the test, on loopback, and stops it when the
// test ends.
func startLab(t *testing.T) (*Lab, *httptest.Server) {
	l := &Lab{Interval: 50 * time.Millisecond}
	srv := httptest.NewUnstartedServer(nil)
	srv.Config.Handler = l.Handler(srv.Listener.Addr().String(), false)
	srv.Start()
	t.Cleanup(func() {
		require.NoError(t, l.Close()) // ends the event streams first
		srv.Close()
		assert.Empty(t, proctest.Children(), "every server has exited")
	})
	return l, srv
}

func call(t *testing.T, method, url, body string, header ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestTheLabRefusesWhatItMustNotDo(t *testing.T) {
	_, srv := startLab(t)
	for _, tc := range []struct {
		method, path, body string
		header             []string
		status             int
		says               string
	}{
		{"GET", "/", "", []string{"Host", "rebound.example:80"}, http.StatusMisdirectedRequest, `this lab serves 127.0.0.1:`},
		{"POST", "/api/stop", "", []string{"Origin", "http://evil.example"}, http.StatusForbidden, "the lab answers its own page only"},
		{"POST", "/api/stop", "", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden, "cross-site requests are refused"},
		{"POST", "/api/start", `{"strategy":"threads","runtime":"go"}`, nil, http.StatusBadRequest, `strategy "threads"`},
		{"POST", "/api/start", `{"strategy":"perconn","runtime":"go","clients":65}`, nil, http.StatusBadRequest, "clients 65: from 1 to 64"},
		{"POST", "/api/start", `{"strategy":"perconn","runtime":"go","command":"rm -rf /"}`, nil, http.StatusBadRequest, `unknown field "command"`},
		{"POST", "/api/start", `{"preset":"nope"}`, nil, http.StatusBadRequest, `no preset "nope"`},
		{"POST", "/api/start", strings.Repeat(" ", maxBody+10) + `{}`, nil, http.StatusBadRequest, "settings: "},
		{"GET", "/api/start", "", nil, http.StatusMethodNotAllowed, ""},
		{"POST", "/api/long", "", nil, http.StatusConflict, "no server runs: start one first"},
		{"GET", "/api/comparison.json", "", nil, http.StatusNotFound, "no section has run yet"},
	} {
		status, body := call(t, tc.method, srv.URL+tc.path, tc.body, tc.header...)
		assert.Equal(t, tc.status, status, "%s %s %v: %s", tc.method, tc.path, tc.header, body)
		assert.Contains(t, body, tc.says, "%s %s", tc.method, tc.path)
	}
	status, body := call(t, "GET", srv.URL+"/api/presets", "")
	require.Equal(t, http.StatusOK, status)
	var presets struct{ Presets []Preset }
	require.NoError(t, json.Unmarshal([]byte(body), &presets))
	assert.Equal(t, Presets, presets.Presets)
	status, body = call(t, "GET", srv.URL+"/", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "<title>primetime lab</title>")
	assert.Contains(t, body, "uPlot", "the chart library is inline: the page works offline")
}

func TestTheEventStreamTellsWhatHappens(t *testing.T) {
	_, srv := startLab(t)
	req, err := http.NewRequest("GET", srv.URL+"/api/events", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	lines := bufio.NewScanner(resp.Body)
	// nextOf returns the next event whose type is one of types.
	type event struct {
		Type string
		Data map[string]any
	}
	nextOf := func(types ...string) event {
		for lines.Scan() {
			data, ok := strings.CutPrefix(lines.Text(), "data: ")
			if !ok {
				continue
			}
			var e event
			require.NoError(t, json.Unmarshal([]byte(data), &e))
			if slices.Contains(types, e.Type) {
				return e
			}
		}
		t.Fatalf("the stream ended before an event %v: %v", types, lines.Err())
		return event{}
	}
	next := func(typ string) map[string]any { return nextOf(typ).Data }
	require.True(t, lines.Scan()) // the stream's first comment: it is open
	status, body := call(t, "POST", srv.URL+"/api/start", `{"strategy":"perconn","runtime":"go","clients":2,"long":"2000","lanes":true}`, "Origin", srv.URL)
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "perconn", next("started")["row"])
	iv := next("interval")
	assert.Contains(t, iv, "rate")
	assert.Contains(t, iv, "p99")
	next("interval") // a second, so that the long request has a before
	status, _ = call(t, "POST", srv.URL+"/api/long", "")
	assert.Equal(t, http.StatusAccepted, status)
	assert.Equal(t, "2000", next("long")["request"])
	assert.Equal(t, "17389", next("answered")["answer"], "the 2000th prime")
	// kept, once the next interval closes, and the lanes, once the server
	// has written its timeline: in either order.
	seen := map[string]map[string]any{}
	for len(seen) < 2 {
		e := nextOf("kept", "lanes")
		seen[e.Type] = e.Data
	}
	assert.Contains(t, seen["kept"], "kept")
	status, body = call(t, "GET", srv.URL+"/api/lanes.html", "")
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body, `"label":"perconn"`, "the lanes of the section's server, drawn by the report's code")
	assert.Contains(t, body, "conn")
	status, _ = call(t, "POST", srv.URL+"/api/stop", "")
	assert.Equal(t, http.StatusNoContent, status)
	next("stopped")
	status, body = call(t, "GET", srv.URL+"/api/comparison.json", "")
	require.Equal(t, http.StatusOK, status)
	cmp, err := loadtest.ReadComparisonJSON(strings.NewReader(body))
	require.NoError(t, err, "the saved table is a comparison that report reads")
	require.Len(t, cmp.Rows, 1)
	assert.True(t, cmp.Rows[0].LongAnswered)
	status, body = call(t, "GET", srv.URL+"/api/report.html", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "perconn")
}
