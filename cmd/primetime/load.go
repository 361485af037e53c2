package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/report"
)

// scenarioFlags defines the load flags shared by load and compare, with
// the given defaults, and returns a function that reads them.
func scenarioFlags(fs *flag.FlagSet, duration, interval time.Duration) func() loadtest.Scenario {
	clients := fs.Int("clients", loadtest.DefaultClients, "number of clients sending small requests")
	small := fs.String("request", loadtest.DefaultSmall, "the small `request` (n for the prime task)")
	long := fs.String("long", loadtest.DefaultLong, "the long `request`")
	after := fs.Duration("after", loadtest.DefaultLongAfter, "send the long request this long after the start (negative: never)")
	dur := fs.Duration("duration", duration, "length of the run")
	iv := fs.Duration("interval", interval, "monitor interval (at least 10ms)")
	warmup := fs.Duration("warmup", 0, "leave this much of the start out of the figures")
	reconnect := fs.Bool("reconnect", false, "use a new connection for every small request")
	rate := fs.Float64("rate", 0, "open loop: total small requests per second (0: closed loop)")
	protocol := protocolFlag(fs)
	return func() loadtest.Scenario {
		return loadtest.Scenario{
			Protocol:  *protocol,
			Clients:   *clients,
			Small:     *small,
			Long:      *long,
			LongAfter: *after,
			Duration:  *dur,
			Interval:  *iv,
			Warmup:    *warmup,
			Reconnect: *reconnect,
			Rate:      *rate,
		}
	}
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:25000", "server `address`")
	serverPid := fs.Int("server-pid", 0, "the server's `pid` on this machine, to record its CPU beside the generator's")
	scenario := scenarioFlags(fs, loadtest.DefaultDuration, loadtest.DefaultInterval)
	jsonFile := fs.String("json", "", "write the result as JSON to `file`")
	csvFile := fs.String("csv", "", "write the intervals as CSV to `file`")
	htmlFile := fs.String("html", "", "write the charts and the figures as a self-contained HTML page to `file`")
	if !parseNoArgs(fs, args, stderr) {
		return 2
	}
	sc := scenario()
	sc.Addr, sc.ServerPID = *addr, *serverPid
	res, err := loadtest.Run(ctx, sc, report.Monitor(stdout))
	if res == nil {
		fmt.Fprintf(stderr, "primetime load: %v\n", err)
		return 2
	}
	report.Summary(stdout, res)
	if err := writeFiles(res, *jsonFile, *csvFile, *htmlFile); err != nil {
		fmt.Fprintf(stderr, "primetime load: %v\n", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "primetime load: stopped early: %v\n", err)
		return 1
	}
	return 0
}

func writeFiles(res *loadtest.Result, jsonFile, csvFile, htmlFile string) error {
	var errs []error
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
