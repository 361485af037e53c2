package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/natslocal"
	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/loadtest"
)

func TestMain(m *testing.M) {
	primetime.MaybeWorker()
	if args, ok := os.LookupEnv(envMainArgs); ok {
		// The command itself, signals and all, for the tests that need
		// a process of its own.
		os.Args = append([]string{"primetime"}, strings.Split(args, "\x1f")...)
		main()
	}
	goleak.VerifyTestMain(m)
}

// envMainArgs makes the test binary run main with its value's arguments,
// separated by \x1f.
const envMainArgs = "PRIMETIME_TEST_MAIN_ARGS"

var listening = regexp.MustCompile(`msg=serving addr=(\S+) strategy=(\S+)`)

// startServe runs "primetime serve" with args on a loopback port and
// returns its address, the stop function standing for SIGINT, and a channel
// that receives the exit code.
func startServe(t *testing.T, args ...string) (addr string, stop func(), code <-chan int) {
	t.Helper()
	addr, stop, code, _ = startServeLogs(t, args...)
	return addr, stop, code
}

// startServeLogs is startServe, and also returns serve's log lines after
// the one that says it serves; they must be read, or serve blocks.
func startServeLogs(t *testing.T, args ...string) (addr string, stop func(), code <-chan int, logs <-chan string) {
	t.Helper()
	lines := make(chan string, 100)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...), io.Discard, pw)
		pw.Close()
	}()
	found := make(chan []string, 1)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m
				close(found)
				break
			}
		}
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // a test that does not read them
			}
		}
	}()
	select {
	case m, ok := <-found:
		require.True(t, ok, "serve exited before listening")
		t.Cleanup(func() {
			cancel()
			for range lines {
			}
		})
		return m[1], cancel, done, lines
	case <-time.After(testkit.Bound):
		cancel()
		t.Fatal("serve did not report its address")
		return "", nil, nil, nil
	}
}

// exitCode waits for a command run on a goroutine of the test to end and
// returns its exit code.
func exitCode(t *testing.T, code <-chan int) int {
	t.Helper()
	select {
	case got := <-code:
		return got
	case <-time.After(testkit.Bound):
		t.Fatal("the command did not stop")
		return 0
	}
}

// ask sends line to the server at addr and returns its answer line.
func ask(t *testing.T, addr, line string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, line)
	require.NoError(t, err)
	c.SetReadDeadline(time.Now().Add(testkit.Bound))
	answer, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err)
	return answer
}

func TestServeAnswersAndStopsGracefully(t *testing.T) {
	for _, strat := range []string{"perconn", "serial", "loop+goroutines:2", "procpool:2", "loop+procs:2", "loop+nats:2"} {
		t.Run(strat, func(t *testing.T) {
			addr, stop, code := startServe(t, "-strategy", strat, "-request-timeout", "10s", "-max-conns", "8", "-gil", "1ms")
			assert.Equal(t, "29\n", ask(t, addr, "10\n"))
			stop()
			assert.Equal(t, 0, exitCode(t, code))
		})
	}
}

func TestServeRefusesBadFlags(t *testing.T) {
	cases := map[string][]string{
		`unknown scheduler "threads"`:   {"-strategy", "threads"},
		"-max-line: 0 must be positive": {"-max-line", "0"},
		`unexpected argument "extra"`:   {"extra"},
		"flag provided but not defined": {"-nope"},
		"address 999999: invalid port":  {"-addr", "127.0.0.1:999999"},
	}
	for want, args := range cases {
		var stderr bytes.Buffer
		code := run(context.Background(), append([]string{"serve"}, args...), io.Discard, &stderr)
		assert.NotZero(t, code, "%v", args)
		assert.Contains(t, stderr.String(), want, "%v", args)
	}
}

func TestNthPrintsThePrimeAndTheTime(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"nth", "1000"}, &stdout, &stderr), stderr.String())
	assert.Regexp(t, `^7919 \(\d.*s\)\n$`, stdout.String())

	for _, args := range [][]string{{"nth"}, {"nth", "0"}, {"nth", "x"}, {"nth", "1", "2"}} {
		stderr.Reset()
		assert.Equal(t, 2, run(context.Background(), args, io.Discard, &stderr), "%v", args)
		assert.NotEmpty(t, stderr.String())
	}
}

func TestNthStopsWhenInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stderr bytes.Buffer
	assert.Equal(t, 1, run(ctx, []string{"nth", "1000000"}, io.Discard, &stderr))
	assert.Contains(t, stderr.String(), "context canceled")
}

func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, run(context.Background(), nil, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "usage: primetime")
	assert.Equal(t, 2, run(context.Background(), []string{"frobnicate"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), `unknown command "frobnicate"`)
	assert.Equal(t, 0, run(context.Background(), []string{"help"}, &stdout, &stderr))
	assert.True(t, strings.HasPrefix(stdout.String(), "usage: primetime"))
}

func TestLoadPrintsTheMonitorAndTheSummary(t *testing.T) {
	addr, _, _ := startServe(t, "-strategy", "loop")
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"load", "-addr", addr, "-duration", "400ms", "-interval", "100ms",
		"-after", "100ms", "-long", "2000", "-clients", "2",
		"-json", dir + "/r.json", "-csv", dir + "/r.csv", "-hlog", dir + "/r.hlog", "-hlog-tag", "gen-1"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	hlog, err := os.ReadFile(dir + "/r.hlog")
	require.NoError(t, err)
	assert.Equal(t, 4, strings.Count(string(hlog), "\nTag=gen-1,"), "an interval histogram per interval:\n%s", hlog)
	out := stdout.String()
	assert.Equal(t, 4, strings.Count(out, "/s  answers"), "one line per interval:\n%s", out)
	assert.Contains(t, out, "-> long request sent: 2000")
	assert.Contains(t, out, "<- long request answered in")
	assert.Contains(t, out, ": 17389")
	assert.Contains(t, out, "[long request in flight]")
	assert.Contains(t, out, "kept while the long request ran:")

	f, err := os.Open(dir + "/r.json")
	require.NoError(t, err)
	defer f.Close()
	res, err := loadtest.ReadJSON(f)
	require.NoError(t, err)
	assert.Equal(t, "17389", res.Summary.LongAnswer)
	checkConditions(t, res.Conditions)
	assert.Contains(t, out, "measured ")
	csvData, err := os.ReadFile(dir + "/r.csv")
	require.NoError(t, err)
	assert.Equal(t, 5, strings.Count(string(csvData), "\n"))
}

func TestLoadStopsAtOnceWhenNothingListens(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"load", "-addr", addr}, &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Equal(t, "primetime load: nothing listens on -addr "+addr+": start the server, or give the address it listens on\n", stderr.String())
	assert.Empty(t, stdout.String(), "no interval was run")
}

// checkConditions checks that a JSON's conditions are this machine's.
// readComparison reads the comparison compare saved with -json.
func readComparison(t *testing.T, path string) *loadtest.Comparison {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	cmp, err := loadtest.ReadComparisonJSON(f)
	require.NoError(t, err)
	return cmp
}

// rowsByStrategy indexes a comparison's rows by their strategy.
func rowsByStrategy(cmp *loadtest.Comparison) map[string]loadtest.Row {
	rows := map[string]loadtest.Row{}
	for _, r := range cmp.Rows {
		rows[r.Strategy] = r
	}
	return rows
}

func checkConditions(t *testing.T, c loadtest.Conditions) {
	t.Helper()
	assert.Equal(t, runtime.Version(), c.Go)
	assert.Equal(t, runtime.NumCPU(), c.CPUs)
	assert.Equal(t, runtime.GOMAXPROCS(0), c.GOMAXPROCS)
	assert.Equal(t, runtime.GOOS, c.OS)
	assert.NotEmpty(t, c.Command)
	assert.NotEmpty(t, c.Module)
	assert.WithinDuration(t, time.Now(), c.Start, time.Hour)
}

func TestCompareShowsTheTableAndTheChart(t *testing.T) {
	html := t.TempDir() + "/compare.html"
	jsonFile := t.TempDir() + "/compare.json"
	var stdout, stderr bytes.Buffer
	code := run(proctest.Context(t), []string{"compare", "-strategies", "serial, loop,perconn",
		"-duration", "600ms", "-interval", "50ms", "-after", "150ms", "-long", "3000", "-clients", "2", "-idle-conns", "500", "-html", html, "-json", jsonFile}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	out := stdout.String()
	for _, want := range []string{
		"3 runs, 600ms each", "servers in a child process each",
		"strategy  before/s  during/s  after/s",
		"500 idle connections measure each server's memory first", "errors  idle conn  note",
		"answers per interval", "━",
		"each mark is 50ms: . the small requests alone, | with the long request in flight",
		"\nkept = during/s ÷ before/s",
	} {
		assert.Contains(t, out, want)
	}
	for _, name := range []string{"serial", "loop", "perconn"} {
		assert.Regexp(t, `(?m)^\s*`+name+`\s+[\d,]+\s+[\d,]+`, out, "a table row for %s", name)
		assert.Regexp(t, `(?m)^`+name+`\s+\|.*\| peak`, out, "a chart row for %s", name)
	}
	// The table's figures and notes are checked in the saved JSON: on a
	// busy machine a row's note may be another (the long request not
	// answered before the run ended), and extend its line.
	assert.Regexp(t, `(?m)^\s*loop\s.*\s[\d,]+ B\b`, out, "the loop's memory per idle connection")
	page, err := os.ReadFile(html)
	require.NoError(t, err)
	for _, label := range []string{"serial", "loop", "perconn"} {
		assert.Contains(t, string(page), "<td>"+label+"</td>", "the page's table has every row; package report checks the page whole")
	}
	assert.Contains(t, string(page), "<th>idle conn</th>")
	cmp := readComparison(t, jsonFile)
	rows := rowsByStrategy(cmp)
	require.Len(t, rows, 3)
	assert.True(t, rows["serial"].Reconnect, "serial: a new connection per request")
	assert.Zero(t, rows["serial"].IdleBytes, "Serial holds no idle connections")
	assert.Positive(t, rows["loop"].IdleBytes, "the loop's memory per idle connection")
	for name, row := range rows {
		assert.Zero(t, row.Errors, name)
		assert.Positive(t, row.Before, name)
	}
	checkConditions(t, cmp.Conditions)
	for _, res := range cmp.Results {
		checkConditions(t, res.Conditions)
	}
	for _, row := range cmp.Rows {
		assert.Equal(t, runtime.NumCPU(), row.MaxProcs, "each server's GOMAXPROCS")
	}
	assert.Contains(t, out, "measured ")
}

func TestCompareRunsAnotherTaskAndChecksItsAnswers(t *testing.T) {
	jsonFile := t.TempDir() + "/sha.json"
	var stdout, stderr bytes.Buffer
	code := run(proctest.Context(t), []string{"compare", "-strategies", "perconn", "-task", "sha256", "-gil", "5ms",
		"-duration", "400ms", "-interval", "50ms", "-after", "100ms", "-long", "200", "-json", jsonFile}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	cmp := readComparison(t, jsonFile)
	require.Len(t, cmp.Rows, 2, "Go and Python mode")
	for _, res := range cmp.Results {
		assert.Positive(t, res.Summary.Answers, res.Label)
		assert.Zero(t, res.Summary.Errors, "%s: every answer was the task's, checked", res.Label)
		assert.Equal(t, "d73f33d78f7bea5da54b6e3375523958ba94e3c86810c9db182e6d7d6bab534a", res.Summary.LongAnswer, "%s: hashlib's answer to 200", res.Label)
	}
}

func TestASweepNamesEveryValueAndLabelsEveryRun(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(proctest.Context(t), []string{"compare", "-strategies", "perconn", "-inprocess", "-sweep", "clients=1,2",
		"-duration", "300ms", "-interval", "50ms", "-after", "-1s"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	out := stdout.String()
	assert.Contains(t, out, "\n1, 2 clients send \"1\"", "the header names every value")
	for _, n := range []string{"1", "2"} {
		assert.Regexp(t, `(?m)^perconn \[clients=`+n+`\]\s+\.+ `, out, "the run's line says its point")
	}
	assert.NotContains(t, out, "kept =", "no long request: no kept to define")
}

// The command of docs/workers.md: the process pool's rows and the NATS
// executor's, whose NATS server and workers compare starts itself.
func TestCompareRunsTheNATSRowsOnANATSServerOfItsOwn(t *testing.T) {
	jsonFile := t.TempDir() + "/compare.json"
	var stdout, stderr bytes.Buffer
	code := run(proctest.Context(t), []string{"compare", "-strategies", "procpool:2,loop+procs:2,loop+nats:2",
		"-duration", "600ms", "-interval", "50ms", "-after", "150ms", "-long", "3000", "-clients", "2", "-json", jsonFile}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	out := stdout.String()
	assert.Contains(t, out, "nats tasks go to local workers through a NATS server of its own")
	rows := rowsByStrategy(readComparison(t, jsonFile))
	for _, name := range []string{"procpool:2", "loop+procs:2", "loop+nats:2"} {
		assert.Regexp(t, `(?m)^\s*`+regexp.QuoteMeta(name)+`\s+[\d,]+\s+[\d,]+`, out, "a table row for %s", name)
		if assert.Contains(t, rows, name) {
			assert.Positive(t, rows[name].Before, name)
			assert.Zero(t, rows[name].Errors, "%s: no errors", name)
		}
	}
	assert.Empty(t, proctest.Children(), "the NATS workers are gone")
}

// Given a NATS server without workers, compare and serve say so at once.
func TestCompareAndServeSayAtOnceThatNoWorkerAnswers(t *testing.T) {
	nats, err := natslocal.StartServer(0)
	require.NoError(t, err)
	defer nats.Close()
	for _, args := range [][]string{
		{"compare", "-strategies", "procpool:2,loop+nats:2", "-nats", nats.URL()},
		{"serve", "-addr", "127.0.0.1:0", "-strategy", "perconn+nats", "-nats", nats.URL()},
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 1, run(context.Background(), args, &stdout, &stderr), args)
		assert.Regexp(t, `^primetime `+args[0]+`: natsexec: no worker answers on nats://127.0.0.1:\d+: start some there with "primetime worker -nats nats://127.0.0.1:\d+", or a program that serves natsexec.Workers\n$`, stderr.String())
		assert.Empty(t, stdout.String())
	}
}

// worker serves the nats executor's tasks until stopped, and fails at once
// without a NATS server.
func TestWorkerServesUntilStopped(t *testing.T) {
	var stderr bytes.Buffer
	assert.Equal(t, 1, run(context.Background(), []string{"worker", "-nats", "nats://127.0.0.1:1"}, io.Discard, &stderr))
	assert.Equal(t, "primetime worker: connecting to the NATS server at nats://127.0.0.1:1: nats: no servers available for connection\n", stderr.String())

	nats, err := natslocal.StartServer(0)
	require.NoError(t, err)
	defer nats.Close()
	ctx, stop := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"worker", "-nats", nats.URL(), "-n", "2"}, io.Discard, pw)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	require.True(t, sc.Scan())
	assert.Regexp(t, `msg=serving nats=nats://127.0.0.1:\d+ workers="\[\d+ \d+\]"`, sc.Text())
	drained := make(chan struct{})
	go func() { // the rest of its log, until it ends
		io.Copy(io.Discard, pr)
		close(drained)
	}()
	addr, stopServe, served := startServe(t, "-strategy", "perconn+nats:2", "-nats", nats.URL())
	assert.Equal(t, "29\n", ask(t, addr, "10\n"))
	stopServe()
	assert.Equal(t, 0, exitCode(t, served))

	stop()
	assert.Equal(t, 0, exitCode(t, code))
	<-drained
	assert.Empty(t, proctest.Children(), "every worker has exited and been waited for")
}

func TestCompareRefusesBadFlags(t *testing.T) {
	var stderr bytes.Buffer
	assert.Equal(t, 2, run(proctest.Context(t), []string{"compare", "-strategies", "serial,threads"}, io.Discard, &stderr))
	assert.Contains(t, stderr.String(), `unknown scheduler "threads"`)
	stderr.Reset()
	assert.Equal(t, 2, run(proctest.Context(t), []string{"compare", "-strategies", " , "}, io.Discard, &stderr))
	assert.Contains(t, stderr.String(), "-strategies is empty")
}

func TestReportShowsASavedComparisonAgain(t *testing.T) {
	dir := t.TempDir()
	saved, html := filepath.Join(dir, "compare.json"), filepath.Join(dir, "page.html")
	var first, stderr bytes.Buffer
	require.Equal(t, 0, run(proctest.Context(t), []string{"compare", "-strategies", "perconn,loop", "-duration", "300ms", "-interval", "50ms",
		"-after", "100ms", "-long", "1500", "-clients", "2", "-json", saved}, &first, &stderr), stderr.String())
	var again bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"report", "-html", html, saved}, &again, &stderr), stderr.String())
	out := first.String()
	header := strings.Index(out, "strategy  before/s")
	require.Positive(t, header)
	table := out[strings.LastIndexByte(out[:header], '\n')+1:]
	assert.Equal(t, table, again.String(), "the same table and chart as compare printed")
	page, err := os.ReadFile(html)
	require.NoError(t, err)
	assert.Contains(t, string(page), "<td>loop</td>")

	var loaded bytes.Buffer
	saveRun := filepath.Join(dir, "run.json")
	addr, _, _ := startServe(t, "-strategy", "perconn")
	require.Equal(t, 0, runLoad(context.Background(), []string{"-addr", addr, "-duration", "300ms", "-interval", "100ms", "-after", "-1s", "-json", saveRun}, io.Discard, &stderr), stderr.String())
	require.Equal(t, 0, runReport([]string{saveRun}, &loaded, &stderr), stderr.String())
	assert.Contains(t, loaded.String(), "small requests: ")

	assert.Equal(t, 2, runReport(nil, io.Discard, &stderr))
	assert.Equal(t, 1, runReport([]string{filepath.Join(dir, "missing.json")}, io.Discard, &stderr))
}

func TestDiffComparesTwoSavedComparisons(t *testing.T) {
	dir := t.TempDir()
	save := func(name string, befores, kepts []float64) string {
		row := loadtest.Row{Strategy: "perconn", Runs: len(befores), Samples: &loadtest.Samples{Before: befores, Kept: kepts}}
		row.Before, row.Kept = befores[len(befores)/2], kepts[len(kepts)/2]
		same := loadtest.Row{Strategy: "loop", Runs: 5, Before: 3, Kept: .5,
			Samples: &loadtest.Samples{Before: []float64{3, 3, 3, 3, 3}, Kept: []float64{.5, .5, .5, .5, .5}}}
		cmp := &loadtest.Comparison{Scenario: loadtest.Scenario{Duration: time.Second}, Rows: []loadtest.Row{row, same}, Conditions: loadtest.Conditions{Go: "go1.26"}}
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		require.NoError(t, err)
		require.NoError(t, cmp.WriteJSON(f))
		require.NoError(t, f.Close())
		return path
	}
	old := save("old.json", []float64{10, 11, 12, 13, 14}, []float64{.1, .11, .12, .13, .14})
	cur := save("new.json", []float64{20, 21, 22, 23, 24}, []float64{.5, .51, .52, .53, .54})
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"diff", old, cur}, &stdout, &stderr), stderr.String())
	out := stdout.String()
	assert.Regexp(t, `(?m)^\s*perconn\s+12\s+22\s+\+83\.3%\s+12\.0%\s+52\.0%\s+\+40\.0 pts\s*$`, out, "disjoint runs differ")
	assert.Regexp(t, `(?m)^\s*loop\s+3\s+3\s+~\s+50\.0%\s+50\.0%\s+~\s*$`, out, "identical runs do not")

	assert.Equal(t, 2, run(context.Background(), []string{"diff", old}, io.Discard, &stderr))
	stderr.Reset()
	assert.Equal(t, 1, run(context.Background(), []string{"diff", old, filepath.Join(dir, "missing.json")}, io.Discard, &stderr))
	assert.Contains(t, stderr.String(), "missing.json")
}
