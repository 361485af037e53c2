package loadtest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/loadtest"
)

// targetScenario is a short run against a target: small requests to small,
// the long request to long after 200 ms, or none if long is "".
func targetScenario(small, long loadtest.HTTPRequest) loadtest.Scenario {
	sc := loadtest.Scenario{Clients: 2, Duration: 900 * time.Millisecond, LongAfter: 200 * time.Millisecond, Interval: 100 * time.Millisecond,
		Target: &loadtest.HTTPTarget{Small: small, Long: long}}
	if long.URL == "" {
		sc.LongAfter, sc.Target.Long = -1, small
	}
	return sc
}

// gatedService is a net/http service with a fast handler and a heavy one
// that answers once the fast one has answered 20 requests after it
// arrived: a gate, so that the small requests surely run while it does.
type gatedService struct {
	*httptest.Server
	fast       chan struct{} // a fast answer, told to a heavy request waiting
	longBody   string
	longHeader http.Header
}

func startGated(t *testing.T) *gatedService {
	s := &gatedService{fast: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fast", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
		select {
		case s.fast <- struct{}{}:
		default:
		}
	})
	mux.HandleFunc("POST /report", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.longBody, s.longHeader = string(body), r.Header.Clone()
		for range 20 {
			select {
			case <-s.fast:
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, "report")
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func TestAnyHTTPServiceIsMeasured(t *testing.T) {
	s := startGated(t)
	header := http.Header{"Authorization": {"Bearer x"}}
	sc := targetScenario(
		loadtest.HTTPRequest{URL: s.URL + "/fast", Header: header},
		loadtest.HTTPRequest{Method: "POST", URL: s.URL + "/report", Header: header, Body: `{"year":2026}`})
	sc.Target.Expect = "^ok$|^report$"
	res, err := loadtest.Run(proctest.Context(t), sc, nil)
	require.NoError(t, err)
	sum := res.Summary
	assert.True(t, sum.LongAnswered, "the heavy request was answered: %s", sum.LongError)
	assert.Equal(t, "report", sum.LongAnswer, "with -expect, the body is kept and shown")
	assert.Zero(t, sum.Errors, "%v", sum.ErrorsByKind)
	assert.Positive(t, sum.Answers)
	assert.Equal(t, `{"year":2026}`, s.longBody, "the heavy request's body was sent")
	assert.Equal(t, "Bearer x", s.longHeader.Get("Authorization"), "and its headers")
	assert.Equal(t, "primetime", s.longHeader.Get("User-Agent"))
	assert.Equal(t, "GET "+s.URL+"/fast", res.Scenario.Small, "the requests are named by their URLs")
	assert.Equal(t, s.Listener.Addr().String(), res.Scenario.Addr, "the address is the small request's host")
}

func TestEveryFramingOfAnswersIsRead(t *testing.T) {
	big := strings.Repeat("x", 10<<20)
	mux := http.NewServeMux()
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "part one, ")
		w.(http.Flusher).Flush() // chunked from here
		io.WriteString(w, "part two")
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, big) })
	mux.HandleFunc("/continue", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusContinue)
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct {
		path, method string
		closes       bool
	}{{"/chunked", "GET", false}, {"/close", "GET", true}, {"/big", "GET", false}, {"/big", "HEAD", false}, {"/continue", "GET", false}} {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			sc := targetScenario(loadtest.HTTPRequest{Method: tc.method, URL: srv.URL + tc.path}, loadtest.HTTPRequest{})
			sc.Duration = 300 * time.Millisecond
			res, err := loadtest.Run(proctest.Context(t), sc, nil)
			require.NoError(t, err)
			assert.Zero(t, res.Summary.Errors, "%v", res.Summary.ErrorsByKind)
			assert.Positive(t, res.Summary.Answers)
			assert.Equal(t, tc.closes, res.Summary.Closed > 0, "closed connections counted: %d", res.Summary.Closed)
		})
	}
}

func TestAnErrorStatusNamesTheURLAndTheStatus(t *testing.T) {
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() || r.URL.Path == "/broken" {
			http.Error(w, "database down", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "fine")
	}))
	defer srv.Close()

	_, err := loadtest.Run(proctest.Context(t), targetScenario(loadtest.HTTPRequest{URL: srv.URL + "/broken"}, loadtest.HTTPRequest{}), nil)
	var fe *loadtest.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, fmt.Sprintf(`the server refuses the small request {Small} "GET %s/broken": HTTP 500 Internal Server Error: database down`, srv.URL), fe.Text)

	sc := targetScenario(loadtest.HTTPRequest{URL: srv.URL + "/broken"}, loadtest.HTTPRequest{})
	sc.Target.Statuses = []int{500}
	res, err := loadtest.Run(proctest.Context(t), sc, nil)
	require.NoError(t, err, "the statuses given count")
	assert.Zero(t, res.Summary.Errors)

	// Once the run has started, an error answer counts as one, and the
	// first says what was sent.
	sc = targetScenario(loadtest.HTTPRequest{URL: srv.URL + "/fine"}, loadtest.HTTPRequest{})
	sc.Duration = 300 * time.Millisecond
	var once sync.Once
	res, err = loadtest.Run(proctest.Context(t), sc, func(loadtest.Interval, []loadtest.Event) { once.Do(func() { fail.Store(true) }) })
	require.NoError(t, err)
	assert.Positive(t, res.Summary.ErrorsByKind["err-answer"])
	var first string
	for _, ev := range res.Events {
		if ev.Kind == loadtest.FirstError {
			first = ev.Detail
		}
	}
	assert.Equal(t, fmt.Sprintf("err-answer: GET %s/fine: HTTP 500 Internal Server Error: database down", srv.URL), first)
}

func TestAnAnswerThatDoesNotMatchIsRefusedAtOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"degraded"}`) }))
	defer srv.Close()
	sc := targetScenario(loadtest.HTTPRequest{URL: srv.URL + "/healthz"}, loadtest.HTTPRequest{})
	sc.Target.Expect = `"status":"ok"`
	_, err := loadtest.Run(proctest.Context(t), sc, nil)
	var fe *loadtest.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Expect", fe.Field)
	assert.Contains(t, fe.Text, `does not match "\"status\":\"ok\""`)
}

func TestHTTPSIsSpokenWithItsCertificateChecked(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secret") }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	sc := targetScenario(loadtest.HTTPRequest{URL: srv.URL + "/"}, loadtest.HTTPRequest{})
	sc.Duration = 300 * time.Millisecond
	_, err := loadtest.Run(proctest.Context(t), sc, nil)
	var fe *loadtest.FieldError
	require.ErrorAs(t, err, &fe, "a certificate nobody signed is refused")
	assert.Contains(t, fe.Text, "TLS with the server of the small request")
	assert.Contains(t, fe.Text, "certificate")

	sc.Target.Insecure = true
	res, err := loadtest.Run(proctest.Context(t), sc, nil)
	require.NoError(t, err)
	assert.Zero(t, res.Summary.Errors)
	assert.Positive(t, res.Summary.Answers)
}

func TestATargetRefusesWhatCannotBeSent(t *testing.T) {
	for _, tc := range []struct {
		r           loadtest.HTTPRequest
		field, text string
	}{
		{loadtest.HTTPRequest{URL: "http:///path"}, "Small", "names no host"},
		{loadtest.HTTPRequest{URL: "ftp://127.0.0.1/x"}, "Small", `the scheme "ftp" is neither http nor https`},
		{loadtest.HTTPRequest{Method: "GE T", URL: "http://127.0.0.1/"}, "Small", "not a token"},
		{loadtest.HTTPRequest{URL: "http://user:pw@127.0.0.1/"}, "Small", "credentials"},
		{loadtest.HTTPRequest{URL: "http://127.0.0.1/", Header: http.Header{"Bad Name": {"x"}}}, "Header", "a header is a name without spaces"},
		{loadtest.HTTPRequest{URL: "http://127.0.0.1/", Header: http.Header{"X-Split": {"a\r\nInjected: 1"}}}, "Header", "a value on one line"},
	} {
		sc := targetScenario(tc.r, loadtest.HTTPRequest{})
		_, err := sc.WithDefaults()
		var fe *loadtest.FieldError
		require.ErrorAs(t, err, &fe, "%+v", tc.r)
		assert.Equal(t, tc.field, fe.Field, "%+v", tc.r)
		assert.Contains(t, fe.Text, tc.text)
	}
	sc := targetScenario(loadtest.HTTPRequest{URL: "http://127.0.0.1:1/"}, loadtest.HTTPRequest{URL: "http://127.0.0.1:2/"})
	sc.Target.Expect = "("
	_, err := sc.WithDefaults()
	var fe *loadtest.FieldError
	require.ErrorAs(t, err, &fe, "a regexp that does not compile")
	assert.Equal(t, "Expect", fe.Field)

	sc = targetScenario(loadtest.HTTPRequest{URL: "http://127.0.0.1:1/"}, loadtest.HTTPRequest{URL: "http://127.0.0.1:2/"})
	got, err := sc.WithDefaults()
	require.NoError(t, err, "a long request to another host than the small one's is allowed")
	assert.Equal(t, "127.0.0.1:1", got.Addr)
}

// TestTheRequestIsWhatCurlSends checks the request bytes against curl's:
// the same method, target, Host, headers and body, read by net/http from
// both.
func TestTheRequestIsWhatCurlSends(t *testing.T) {
	curl := proctest.Tool(t, "curl")
	got := make(chan *http.Request, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		select {
		case got <- r: // the first of the run's, and curl's
		default:
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	url := srv.URL + "/api/v1/report?year=2026&q=a%20b"
	r := loadtest.HTTPRequest{Method: "PUT", URL: url, Header: http.Header{"X-Token": {"t1"}, "Content-Type": {"application/json"}}, Body: `{"a":1}`}
	sc := targetScenario(r, loadtest.HTTPRequest{})
	sc.Duration = 100 * time.Millisecond
	_, err := loadtest.Run(proctest.Context(t), sc, nil)
	require.NoError(t, err)
	ours := testkit.Receive(t, got, "the run's request")
	for len(got) > 0 {
		<-got
	}
	runTool(t, curl, "-s", "-o", "/dev/null", "-X", "PUT", "-H", "X-Token: t1", "-H", "Content-Type: application/json", "-H", "User-Agent: primetime", "--data-binary", `{"a":1}`, url)
	theirs := testkit.Receive(t, got, "curl's request")
	for _, r := range []*http.Request{ours, theirs} {
		r.Header.Del("Accept") // curl's own
	}
	assert.Equal(t, theirs.Method, ours.Method)
	assert.Equal(t, theirs.RequestURI, ours.RequestURI)
	assert.Equal(t, theirs.Host, ours.Host)
	assert.Equal(t, theirs.Header, ours.Header)
	b1, _ := io.ReadAll(ours.Body)
	b2, _ := io.ReadAll(theirs.Body)
	assert.Equal(t, string(b2), string(b1))
}

// runTool runs a tool to its end, and fails the test with what it
// printed if it fails.
func runTool(t *testing.T, path string, args ...string) {
	t.Helper()
	out, err := exec.CommandContext(proctest.Context(t), path, args...).CombinedOutput()
	require.NoError(t, err, "%s: %s", path, out)
}

func TestASavedResultKeepsNoCredentials(t *testing.T) {
	s := startGated(t)
	sc := targetScenario(
		loadtest.HTTPRequest{URL: s.URL + "/fast", Header: http.Header{"Authorization": {"Bearer secret-token"}}},
		loadtest.HTTPRequest{Method: "POST", URL: s.URL + "/report", Body: `{"password":"hunter2"}`})
	res, err := loadtest.Run(proctest.Context(t), sc, nil)
	require.NoError(t, err)
	var saved, compact bytes.Buffer
	require.NoError(t, res.WriteJSON(&saved))
	require.NoError(t, json.Compact(&compact, saved.Bytes()))
	text := compact.String()
	assert.False(t, strings.Contains(text, "secret-token"), "a header's value is not saved")
	assert.False(t, strings.Contains(text, "hunter2"), "nor a body")
	assert.True(t, strings.Contains(text, `"small":{"url":"`+s.URL+`/fast","headers":["Authorization"]}`), "the headers' names are kept")
	assert.True(t, strings.Contains(text, `"body_bytes":22`), "and the body's length")
	back, err := loadtest.ReadJSON(&saved)
	require.NoError(t, err)
	assert.Equal(t, res.Scenario.Small, back.Scenario.Small, "the saved run names its requests")
	assert.Contains(t, back.Scenario.Target.Small.Header, "Authorization")
}

// TestATargetRunIsMergedAndLoggedAsAnyRun plays a target scenario in open
// loop from two generators started together, merges them, and writes the
// merged run's HdrHistogram log, as for primetime's own servers.
func TestATargetRunIsMergedAndLoggedAsAnyRun(t *testing.T) {
	s := startGated(t)
	start := time.Now().Add(300 * time.Millisecond)
	results := make([]*loadtest.Result, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		sc := targetScenario(loadtest.HTTPRequest{URL: s.URL + "/fast"}, loadtest.HTTPRequest{Method: "POST", URL: s.URL + "/report"})
		sc.Rate, sc.StartAt = 400, start
		if i == 1 {
			sc.LongAfter = -1 // one generator sends the long request
		}
		wg.Go(func() { results[i], errs[i] = loadtest.Run(proctest.Context(t), sc, nil) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	merged, err := loadtest.Merge(results...)
	require.NoError(t, err)
	assert.Equal(t, results[0].Summary.Answers+results[1].Summary.Answers, merged.Summary.Answers)
	assert.True(t, merged.Summary.LongAnswered)
	assert.Zero(t, merged.Summary.Errors)
	var hlog bytes.Buffer
	require.NoError(t, merged.WriteHlog(&hlog, "merged"))
	assert.Contains(t, hlog.String(), "Tag=merged,")
}
