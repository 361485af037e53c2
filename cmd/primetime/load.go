package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/report"
	"github.com/primetime-lab/primetime/server"
)

// scenarioFlags defines the load flags shared by load and compare, with
// the given default duration and help for -interval, and returns a function
// that reads them.
func scenarioFlags(c *command, duration time.Duration, intervalHelp string) func() loadtest.Scenario {
	return scenarioFlagsAuto(c, duration, intervalHelp, nil)
}

// scenarioFlagsAuto is scenarioFlags whose -rate also takes "auto", which
// sets *auto, if auto is not nil.
func scenarioFlagsAuto(c *command, duration time.Duration, intervalHelp string, auto *bool) func() loadtest.Scenario {
	clients := c.int("clients", loadtest.DefaultClients, positive, "number of clients sending small requests")
	small := c.String("request", loadtest.DefaultSmall, "the small `request`: n for the prime task (load: or 'METHOD URL' of any HTTP service)")
	long := c.String("long", loadtest.DefaultLong, "the long `request` (load: or 'METHOD URL')")
	after := c.duration("after", 0, anyValue, fmt.Sprintf("send the long request this long after the start (default %v, or a third of a -duration under %v; negative: never)", loadtest.DefaultLongAfter, 3*loadtest.DefaultLongAfter))
	dur := c.duration("duration", duration, positive, "length of the run, when its long request is answered in time")
	maxDur := c.duration("max-duration", 0, nonNegative, "how long a run may go on waiting for its long request's answer, and an after window as long as the before window (0: three times -duration)")
	iv := c.duration("interval", 0, positive, "monitor interval, at least "+loadtest.MinInterval.String()+" "+intervalHelp)
	warmup := c.duration("warmup", 0, nonNegative, "leave this much of the start out of the figures")
	reconnect := c.Bool("reconnect", false, "use a new connection for every small request")
	rate := new(float64)
	rateHelp := "open loop: total small requests per second (0: closed loop)"
	if auto != nil {
		rateHelp += "; auto: find each strategy's knee, the highest rate it keeps up with under -p99"
	}
	c.Var(rateValue{floatValue{rate, nonNegative}, auto}, "rate", rateHelp)
	longs := c.int("longs", 0, nonNegative, "`N` more clients send the long request back to back from the warm-up's end, as CPU-bound threads (the convoy effect)")
	protocol := protocolFlag(c)
	for field, name := range map[string]string{"Clients": "clients", "Small": "request", "Long": "long", "LongAfter": "after",
		"Duration": "duration", "MaxDuration": "max-duration", "Interval": "interval", "Warmup": "warmup", "Reconnect": "reconnect", "Rate": "rate", "Longs": "longs"} {
		c.field(field, name)
	}
	return func() loadtest.Scenario {
		return loadtest.Scenario{
			Protocol:    *protocol,
			Clients:     *clients,
			Small:       *small,
			Long:        *long,
			LongAfter:   *after,
			Duration:    *dur,
			MaxDuration: *maxDur,
			Interval:    *iv,
			Warmup:      *warmup,
			Reconnect:   *reconnect,
			Rate:        *rate,
			Longs:       *longs,
		}
	}
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCommand("load", "primetime load [flags]", stdout, stderr)
	addr := c.String("addr", server.DefaultAddr, "server `address`")
	serverPid := c.int("server-pid", 0, nonNegative, "the server's `pid` on this machine, to record its CPU beside the generator's")
	scenario := scenarioFlags(c, loadtest.DefaultDuration, fmt.Sprintf("(default %v, or a tenth of a -duration under %v)", loadtest.DefaultInterval, 10*loadtest.DefaultInterval))
	jsonFile := c.String("json", "", "write the result as JSON to `file`")
	csvFile := c.String("csv", "", "write the intervals as CSV to `file`")
	htmlFile := c.String("html", "", "write the charts and the figures as a self-contained HTML page to `file`")
	hlogFile := c.String("hlog", "", "write the intervals' latency histograms as an HdrHistogram interval log to `file`")
	hlogTag := c.String("hlog-tag", "", "tag the -hlog histograms with this `tag` (no commas or spaces), say the generator's name")
	task := taskFlag(c)
	startAt := c.String("start-at", "", "start at `time` (RFC 3339, or +DURATION from now), so that generators started on several machines begin together and their intervals line up")
	target := targetFlags(c)
	c.field("Addr", "addr")
	c.field("ServerPID", "server-pid")
	c.field("StartAt", "start-at")
	if code, ok := c.parse(args, 0); !ok {
		return code
	}
	sc := scenario()
	sc.Addr, sc.ServerPID, sc.Check = *addr, *serverPid, checkOf(*task)
	t, err := target(sc.Small, sc.Long)
	if err != nil {
		return c.usageError(err.Error())
	}
	if t != nil {
		if c.set("task") {
			return c.usageError("-task is for primetime's own servers: requests given as URLs are checked by -status and -expect")
		}
		sc.Target, sc.Small, sc.Long, sc.Check = t, "", "", nil
		if !c.set("addr") {
			sc.Addr = "" // the small request's URL says it
		}
		if !c.set("protocol") {
			sc.Protocol = ""
		}
	}
	if *startAt != "" {
		at, err := parseStartAt(*startAt, time.Now())
		if err != nil {
			return c.usageError("-start-at: " + err.Error())
		}
		sc.StartAt = at
	}
	if _, err := sc.WithDefaults(); err != nil {
		return c.fail(err, 2)
	}
	if strings.ContainsAny(*hlogTag, ", \r\n") {
		return c.usageError(fmt.Sprintf("-hlog-tag: %q holds a comma, a space or a line break", *hlogTag))
	}
	if err := checkOutputs(*jsonFile, *csvFile, *htmlFile, *hlogFile); err != nil {
		return c.fail(err, 2)
	}
	res, err := loadtest.Run(ctx, sc, report.Monitor(stdout))
	if res == nil {
		return c.fail(err, 1)
	}
	report.Summary(stdout, res)
	if err := writeFiles(res, *jsonFile, *csvFile, *htmlFile, *hlogFile, *hlogTag); err != nil {
		return c.fail(err, 1)
	}
	if err != nil {
		return c.fail(fmt.Errorf("stopped early: %w", err), 1)
	}
	return 0
}

// checkOutputs makes sure that each named file (empty: none) can be
// written, and that no two are the same, before anything runs. A file that
// did not exist is removed again.
func checkOutputs(names ...string) error {
	seen := map[string]bool{}
	for _, name := range names {
		if name == "" {
			continue
		}
		abs, err := filepath.Abs(name)
		if err != nil {
			return err
		}
		if seen[abs] {
			return fmt.Errorf("%s is given for two outputs", name)
		}
		seen[abs] = true
		_, statErr := os.Stat(name)
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o666)
		if err != nil {
			return fmt.Errorf("cannot write the output: %w", err)
		}
		f.Close()
		if errors.Is(statErr, fs.ErrNotExist) {
			os.Remove(name)
		}
	}
	return nil
}

// parseStartAt reads -start-at: an RFC 3339 time, or +DURATION from now.
func parseStartAt(v string, now time.Time) (time.Time, error) {
	if d, ok := strings.CutPrefix(v, "+"); ok {
		wait, err := time.ParseDuration(d)
		if err != nil || wait <= 0 {
			return time.Time{}, fmt.Errorf("%q is not +DURATION, such as +30s", v)
		}
		return now.Add(wait), nil
	}
	at, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time, such as 2026-12-01T12:00:00Z, nor +DURATION", v)
	}
	return at, nil
}

func writeFiles(res *loadtest.Result, jsonFile, csvFile, htmlFile, hlogFile, hlogTag string) error {
	var errs []error
	if hlogFile != "" {
		errs = append(errs, writeFile(hlogFile, func(w io.Writer) error { return res.WriteHlog(w, hlogTag) }))
	}
	if jsonFile != "" {
		errs = append(errs, writeFile(jsonFile, res.WriteJSON))
	}
	if csvFile != "" {
		errs = append(errs, writeFile(csvFile, res.WriteCSV))
	}
	if htmlFile != "" {
		errs = append(errs, writeFile(htmlFile, func(w io.Writer) error { return report.RunHTML(w, res) }))
	}
	return errors.Join(errs...)
}

func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
