package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/loadtest"
)

// Each bad command line is refused with exit code 2 and one line that
// names the flag and says what a good value is, before anything runs.
func TestBadCommandLinesGetOneLineThatNamesTheFlag(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-dir", "x.html")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "-gil", "bogus"}, `primetime serve: -gil: "bogus" is not a duration such as 5ms, 2s or 1m`},
		{[]string{"serve", "-gil", "-5ms"}, "primetime serve: -gil: -5ms must not be negative"},
		{[]string{"serve", "-max-conns", "-1"}, "primetime serve: -max-conns: -1 must not be negative"},
		{[]string{"serve", "-protocol", "ftp"}, `primetime serve: -protocol: "ftp" is not a protocol: give one of line, http, recv`},
		{[]string{"serve", "-task", "nope"}, `primetime serve: -task: "nope" is not a registered task: give one of prime, sha256`},
		{[]string{"serve", "-strategy", "threads"}, `primetime serve: -strategy: "threads": unknown scheduler "threads" (want serial, perconn`},
		{[]string{"serve", "-debug-addr", "0.0.0.0:0"}, "primetime serve: -debug-addr 0.0.0.0:0 is not a loopback address"},
		{[]string{"serve", "-debug-addr", ":6060"}, "primetime serve: -debug-addr :6060 is not a loopback address"},
		{[]string{"nth", "-5"}, "primetime nth: N must be a whole number from 1 (the 1st prime is 2) to 1,000,000, got \"-5\""},
		{[]string{"compare", "-clients", "0"}, "primetime compare: -clients: 0 must be positive"},
		{[]string{"compare", "-duration", "0"}, "primetime compare: -duration: 0 must be positive"},
		{[]string{"compare", "-maxprocs", "-1"}, "primetime compare: -maxprocs: -1 must not be negative"},
		{[]string{"compare", "-count", "0"}, "primetime compare: -count: 0 must be positive"},
		{[]string{"compare", "-gil", "5ms,5ms"}, "primetime compare: -gil has 5ms twice"},
		{[]string{"compare", "-gil", "5ms,soon"}, `primetime compare: -gil: "soon" is not a duration`},
		{[]string{"compare", "-gil-only"}, "primetime compare: -gil-only needs -gil intervals"},
		{[]string{"compare", "-sweep", "longs"}, `primetime compare: -sweep: "longs" is not of the form NAME=v1,v2`},
		{[]string{"compare", "-sweep", "colour=red"}, `primetime compare: -sweep: "colour" is not a setting to sweep: give one of rate, clients, request, gil, longs, maxprocs`},
		{[]string{"compare", "-sweep", "gil=1ms", "-sweep", "gil=2ms"}, "primetime compare: -sweep sweeps gil twice"},
		{[]string{"compare", "-convoy", "-sweep", "clients=1"}, "primetime compare: -convoy sets its own -sweep and -gil: leave them out"},
		{[]string{"compare", "-longs", "-1"}, "primetime compare: -longs: -1 must not be negative"},
		{[]string{"load", "-hlog-tag", "gen 1"}, `primetime load: -hlog-tag: "gen 1" holds a comma, a space or a line break`},
		{[]string{"load", "-start-at", "soon"}, `primetime load: -start-at: "soon" is not an RFC 3339 time, such as 2026-12-01T12:00:00Z, nor +DURATION`},
		{[]string{"load", "-start-at", "+-5s"}, `primetime load: -start-at: "+-5s" is not +DURATION, such as +30s`},
		{[]string{"load", "-start-at", "2020-01-01T00:00:00Z"}, "primetime load: -start-at 2020-01-01T00:00:00Z is "},
		{[]string{"load", "-rate", "auto"}, `primetime load: -rate: "auto" is compare's: here give a rate, or 0 for closed loop`},
		{[]string{"compare", "-idle", "5"}, "primetime compare: flag provided but not defined: -idle"},
		{[]string{"compare", "-strategies", " , "}, "primetime compare: -strategies is empty"},
		{[]string{"compare", "-duration", "2s", "-after", "3s"}, "primetime compare: -after 3s is not before the end of the run at -duration 2s"},
		{[]string{"compare", "-html", missing}, "primetime compare: cannot write the output: open " + missing},
		{[]string{"compare", "-json", "same.json", "-html", "same.json"}, "primetime compare: same.json is given for two outputs"},
		{[]string{"load", "-interval", "1ms"}, "primetime load: -interval is 1ms; it must be at least 10ms"},
		{[]string{"load", "-duration", "1s", "-warmup", "2s"}, "primetime load: -warmup is 2s; it must be at least 0 and shorter than -duration 1s"},
		{[]string{"load", "-rate", "-3"}, "primetime load: -rate: -3 must not be negative"},
		{[]string{"load", "-clients", "x"}, `primetime load: -clients: "x" is not a whole number`},
		{[]string{"load", "-csv", missing}, "primetime load: cannot write the output"},
		{[]string{"report"}, "primetime report: takes 1 arguments, got 0"},
		{[]string{"serve", "-nats", "127.0.0.1:4222"}, `primetime serve: -nats: "127.0.0.1:4222" is not a NATS URL such as nats://127.0.0.1:4222`},
		{[]string{"compare", "-nats", "http://127.0.0.1:4222"}, `primetime compare: -nats: "http://127.0.0.1:4222" is not a NATS URL such as nats://127.0.0.1:4222`},
		{[]string{"worker", "-nats", "bogus"}, `primetime worker: -nats: "bogus" is not a NATS URL such as nats://127.0.0.1:4222`},
		{[]string{"worker", "-n", "0"}, "primetime worker: -n: 0 must be positive"},
		{[]string{"worker", "extra"}, `primetime worker: unexpected argument "extra"`},
		{[]string{"diff", "a.json"}, "primetime diff: takes 2 arguments, got 1"},
		{[]string{"lab", "-addr", "0.0.0.0:8080"}, "primetime lab: -addr 0.0.0.0:8080 is not a loopback address, and whoever reaches the lab starts servers on this machine"},
		{[]string{"lab", "-addr", "8080"}, `primetime lab: -addr "8080" is not a host:port`},
		{[]string{"load", "-request", "GET http:///x", "-long", "http://127.0.0.1:1/"}, `primetime load: -request "GET http:///x": the URL names no host`},
		{[]string{"load", "-request", "ftp://127.0.0.1/x", "-long", "http://127.0.0.1:1/"}, `primetime load: -request "GET ftp://127.0.0.1/x": the scheme "ftp" is neither http nor https`},
		{[]string{"load", "-request", "http://127.0.0.1:1/", "-long", "10000"}, `primetime load: -long "10000": give the long request as a URL too, as -request is one`},
		{[]string{"load", "-request", "http://127.0.0.1:1/", "-long", "http://127.0.0.1:1/", "-H", "NoColon"}, `primetime load: -H: "NoColon" is not a header: write it as 'Name: value'`},
		{[]string{"load", "-request", "http://127.0.0.1:1/", "-long", "POST http://127.0.0.1:1/", "-long-body", "@" + missing}, "primetime load: -long-body: open " + missing + ": no such file or directory"},
		{[]string{"load", "-request", "http://127.0.0.1:1/", "-long", "http://127.0.0.1:1/", "-status", "99"}, `primetime load: -status: "99" is not an HTTP status, such as 200`},
		{[]string{"load", "-request", "http://127.0.0.1:1/", "-long", "http://127.0.0.1:1/", "-expect", "("}, `primetime load: -expect "(": error parsing regexp`},
		{[]string{"load", "-request", "http://127.0.0.1:1/", "-long", "http://127.0.0.1:1/", "-task", "sha256"}, "primetime load: -task is for primetime's own servers: requests given as URLs are checked by -status and -expect"},
		{[]string{"load", "-H", "X-A: 1"}, "primetime load: -H is for requests given as URLs, and -request and -long are primetime's requests"},
		{[]string{"compare", "-request", "GET http://127.0.0.1:1/"}, `primetime compare: -request "GET http://127.0.0.1:1/": compare measures primetime's own servers`},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), c.args, &stdout, &stderr)
		assert.Equal(t, 2, code, "%v: %s", c.args, stderr.String())
		assert.True(t, strings.HasPrefix(stderr.String(), c.want), "%v:\n got %q\nwant %q...", c.args, stderr.String(), c.want)
		assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), "%v: one line", c.args)
		assert.Empty(t, stdout.String(), "%v: nothing is printed before the error", c.args)
	}
	_, err := os.Stat(filepath.Dir(missing))
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Stat("same.json")
	assert.ErrorIs(t, err, os.ErrNotExist, "a check of an output leaves no file behind")
}

// -h prints a command's usage and flags on stdout and exits 0.
func TestHelpExitsZero(t *testing.T) {
	for _, name := range []string{"serve", "load", "compare", "diff", "report", "nth", "worker", "merge", "lab"} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 0, run(context.Background(), []string{name, "-h"}, &stdout, &stderr), name)
		assert.True(t, strings.HasPrefix(stdout.String(), "usage: primetime "+name), "%s: %q", name, stdout.String())
		assert.Empty(t, stderr.String(), name)
	}
	var stdout bytes.Buffer
	run(context.Background(), []string{"serve", "-h"}, &stdout, io.Discard)
	assert.Contains(t, stdout.String(), "  -gil interval\n", "flags show their kind")
	assert.Contains(t, stdout.String(), "  -idle duration\n")
	assert.Contains(t, stdout.String(), "(default 2m0s)")
	assert.Contains(t, stdout.String(), `(default perconn)`)
}

// cancelOnWrite is a Writer that cancels a context when it is first
// written to, and keeps what it got.
type cancelOnWrite struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	cancel context.CancelFunc
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cancel()
	return w.buf.Write(p)
}

func TestNthSaysHowLongALargeNTakes(t *testing.T) {
	// On a busy machine the estimate says so.
	const busy = `(; the machine is busy \(the estimate got \d+% of a core\), so it may take longer)?`
	var stderr bytes.Buffer
	assert.Equal(t, 2, run(context.Background(), []string{"nth", "99999999999"}, io.Discard, &stderr))
	assert.Regexp(t, `^primetime nth: N is 99,999,999,999, over the prime task's limit of 1,000,000: it would take about [\d,]+ years of CPU here \(estimated from the CPU time of n=2,000\)`+busy+`\n$`, stderr.String())

	// The warning comes before the work, and Ctrl-C (here, the warning
	// itself) stops it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOnWrite{cancel: cancel}
	assert.Equal(t, 1, run(ctx, []string{"nth", "1000000"}, io.Discard, w))
	assert.Regexp(t, `^primetime nth: n=1,000,000 would take about \S+ of CPU here \(estimated from the CPU time of n=2,000\)`+busy+`; Ctrl-C stops it\nprimetime nth: stopped after \S+: context canceled\n$`, w.buf.String())
}

func TestDiffRefusesWhatIsNotTwoSavedRunsOfAKind(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, v interface{ WriteJSON(io.Writer) error }) string {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		require.NoError(t, err)
		require.NoError(t, v.WriteJSON(f))
		require.NoError(t, f.Close())
		return path
	}
	sc := loadtest.Scenario{Clients: 4, Duration: time.Second, Interval: 100 * time.Millisecond}
	row := loadtest.Row{Strategy: "perconn", Before: 10, Kept: .5}
	cmp := write("cmp.json", &loadtest.Comparison{Scenario: sc, Rows: []loadtest.Row{row}})
	sc8 := sc
	sc8.Clients = 8
	cmp8 := write("cmp8.json", &loadtest.Comparison{Scenario: sc8, Rows: []loadtest.Row{row}})
	res := write("run.json", &loadtest.Result{Scenario: sc, Start: time.Now()})
	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(empty, []byte("{}\n"), 0o666))

	var stderr bytes.Buffer
	assert.Equal(t, 1, run(context.Background(), []string{"diff", cmp, empty}, io.Discard, &stderr))
	assert.Contains(t, stderr.String(), "empty.json is neither a saved comparison (compare -json) nor a saved run (load -json)")

	stderr.Reset()
	assert.Equal(t, 1, run(context.Background(), []string{"diff", cmp, res}, io.Discard, &stderr))
	assert.Contains(t, stderr.String(), "cmp.json is a comparison of 1 rows and "+res+" is a run of load: diff compares two of a kind")

	stderr.Reset()
	var stdout bytes.Buffer
	assert.Equal(t, 0, run(context.Background(), []string{"diff", cmp, cmp8}, &stdout, &stderr))
	assert.Equal(t, "primetime diff: the scenarios differ (Clients 4, then 8), so a difference may be theirs, not the servers'\n", stderr.String())
	assert.Contains(t, stdout.String(), "perconn")
}

func TestServeSaysServingOnlyOnceItServes(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "-addr", "127.0.0.1:0", "-debug-addr", taken.Addr().String()}, io.Discard, &stderr)
	assert.Equal(t, 1, code)
	assert.NotContains(t, stderr.String(), "msg=serving")
	assert.Contains(t, stderr.String(), "primetime serve: ")
	assert.Contains(t, stderr.String(), "address already in use")
}

func TestLoadSaysWhichProtocolTheServerSpeaks(t *testing.T) {
	addr, _, _ := startServe(t, "-protocol", "http")
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, run(context.Background(), []string{"load", "-addr", addr}, &stdout, &stderr))
	assert.Equal(t, "primetime load: the server at "+addr+" answers HTTP: set -protocol to http\n", stderr.String())
	assert.Empty(t, stdout.String())
}

func TestFlagsMayFollowTheArguments(t *testing.T) {
	var stdout, stderr bytes.Buffer
	c := newCommand("merge", "primetime merge", &stdout, &stderr)
	out := c.String("json", "", "")
	code, ok := c.parse([]string{"a.json", "-json", "m.json", "b.json", "--", "-c.json"}, -1)
	require.True(t, ok, "%d: %s", code, stderr.String())
	assert.Equal(t, "m.json", *out)
	assert.Equal(t, []string{"a.json", "b.json", "-c.json"}, c.Args(), "after --, flags are arguments")
	assert.Equal(t, 3, c.NArg())
	assert.Equal(t, "a.json", c.Arg(0))
	assert.Equal(t, "", c.Arg(3))
}

func TestAnEstimateOnABusyMachineSaysSo(t *testing.T) {
	assert.Equal(t, "would take about 27s of CPU here (estimated from the CPU time of n=2,000)", estimateText(estimate{cpu: 27, share: 0.97}))
	assert.Equal(t, "would take about 27s of CPU here (estimated from the CPU time of n=2,000); the machine is busy (the estimate got 45% of a core), so it may take longer",
		estimateText(estimate{cpu: 27, share: 0.45}))
}
