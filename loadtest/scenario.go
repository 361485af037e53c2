// Package loadtest drives a server with the lecture's experiment and
// returns what happened as data.
//
// A [Scenario] is C clients that send a small request in a closed loop, as
// fast as answers come back (or, in open-loop mode, at a fixed total rate),
// and one more client that sends a long request after a delay. [Run] plays
// it against a server and returns a [Result]: the answers, errors and
// latency percentiles of every interval, with absolute timestamps; the
// events (long request sent, answered, errors); and a [Summary]: throughput
// before, during and after the long request, and Kept, the share of the
// small requests' throughput that survived while the long one ran.
//
// A [Comparison] is what an experiment of several strategies measured: its
// rows and every run's Result. Package loadtest/compare runs experiments
// (each server in a child process of its own, the CPython rows, idle
// connections), package loadtest/report shows results and comparisons as
// the command does; this package links neither, so a program that drives
// its own server with Run takes the load generator alone.
package loadtest

import (
	"fmt"
	"strings"
	"time"
)

// Defaults of a Scenario.
const (
	DefaultClients   = 4
	DefaultSmall     = "1"
	DefaultLong      = "10000"
	DefaultLongAfter = 2 * time.Second
	DefaultDuration  = 10 * time.Second
	DefaultInterval  = time.Second
	// MinInterval is the finest interval a Scenario may ask for.
	MinInterval = 10 * time.Millisecond
	// MaxStartWait is how far ahead a Scenario's StartAt may be.
	MaxStartWait = 24 * time.Hour
)

// A Scenario describes one run of the experiment. The zero value of each
// field is its default, so Scenario{Addr: addr} is the lecture's scenario.
type Scenario struct {
	// Addr is the server's TCP address: host:port.
	Addr string `json:"addr"`
	// Protocol is the wire protocol the server speaks: "line" (the
	// default, also ""), "http" or "recv" (server.ProtocolLine,
	// server.ProtocolHTTP, server.ProtocolRecv).
	Protocol Protocol `json:"protocol,omitempty"`
	// Clients is the number of clients sending small requests, each on a
	// connection of its own. Zero means DefaultClients.
	Clients int `json:"clients"`
	// Reconnect makes every small request use a new connection, as a
	// server that serves one connection at a time needs.
	Reconnect bool `json:"reconnect,omitempty"`
	// Small is the payload of the small requests. Empty means
	// DefaultSmall, the first prime.
	Small string `json:"small"`
	// Long is the payload of the long request. Empty means DefaultLong.
	Long string `json:"long"`
	// LongAfter is when the long request is sent, counted from the start.
	// Zero means DefaultLongAfter, or a third of Duration (to the ms) if
	// that is sooner; a negative value sends none.
	LongAfter time.Duration `json:"long_after"`
	// Duration is how long the run lasts, warm-up included, when its long
	// request has been answered in time. Zero means DefaultDuration.
	Duration time.Duration `json:"duration"`
	// MaxDuration bounds a run that waits for its long request: a run
	// whose long request has not been answered by the end of Duration, or
	// was answered less than an "after" window ago (as long as the window
	// before it, from the warm-up's end, and at least one interval), goes
	// on, interval by interval, until both are true or MaxDuration has
	// passed. Zero means three times Duration.
	MaxDuration time.Duration `json:"max_duration,omitempty"`
	// Interval is how often the monitor counts. Zero means
	// DefaultInterval, or a tenth of a Duration under 10 s (at least
	// MinInterval); it may be as fine as MinInterval.
	Interval time.Duration `json:"interval"`
	// Warmup is a span at the start whose answers are left out of the
	// summary; its intervals are reported, marked as warm-up. It is
	// rounded up to a whole number of intervals.
	Warmup time.Duration `json:"warmup,omitempty"`
	// Longs is how many more clients send the long request back to back,
	// each on a connection of its own, from the end of the warm-up to the
	// end of the run, as the CPU-bound threads of CPython's ccbench run:
	// the background of the convoy effect. Zero means none; the one long
	// request of LongAfter is sent as well, unless LongAfter is negative.
	Longs int `json:"longs,omitempty"`
	// Rate, if positive, switches the small requests to open loop: the
	// clients together send Rate requests per second on a fixed schedule,
	// and latency is measured from when each request was due, not from
	// when it could be sent, so a stalled server is not flattered
	// (no coordinated omission).
	Rate float64 `json:"rate,omitempty"`
	// StartAt, if set, is when the run starts: Run checks the server, then
	// waits until then, and counts its intervals from it, so that
	// generators started on several machines begin together and their
	// intervals line up. It must be in the future, and within MaxStartWait.
	StartAt time.Time `json:"start_at,omitempty"`
	// ServerPID, if positive, is the server's process on this machine,
	// whose CPU each interval records beside the generator's (from /proc),
	// to tell whether the generator or the server set the pace. Compare
	// sets it for its child servers.
	ServerPID int `json:"server_pid,omitempty"`
	// Target, if not nil, sends the small and the long request to any
	// HTTP service, as requests of one's own (see HTTPTarget): Small and
	// Long then name them ("GET http://127.0.0.1:8080/healthz"), Addr is
	// the small request's host, and Check defaults to the target's
	// Expect. The long request may go to another host.
	Target *HTTPTarget `json:"target,omitempty"`
	// Check, if not nil, checks each answer to a request (Small or Long)
	// and returns an error if it is wrong; a wrong answer counts as an
	// error of the kind bad-answer, never as an answer. Nil checks the
	// prime task's answers when the request is a number n up to 20,000,
	// and takes any other answer; AnyAnswer takes every answer, for a task
	// of one's own. The long request's answer is checked once the run is
	// over.
	Check func(request, answer []byte) error `json:"-"`
}

// WithDefaults returns sc with its zero fields set to their defaults, or a
// *FieldError that says which field is out of range: the scenario Run
// plays.
func (sc Scenario) WithDefaults() (Scenario, error) {
	if sc.Target != nil {
		if err := sc.checkTarget(); err != nil {
			return sc, err
		}
	}
	if sc.Addr == "" {
		return sc, Fault("Addr", "{Addr} is empty: give the server's host:port")
	}
	if _, err := newClientCodec(sc.Protocol); err != nil {
		return sc, Fault("Protocol", "{Protocol}: "+err.Error())
	}
	if sc.Clients == 0 {
		sc.Clients = DefaultClients
	}
	if sc.Small == "" {
		sc.Small = DefaultSmall
	}
	if sc.Long == "" {
		sc.Long = DefaultLong
	}
	if sc.Duration == 0 {
		sc.Duration = DefaultDuration
	}
	// The long request's time and the interval scale with a short run.
	if sc.LongAfter == 0 {
		sc.LongAfter = DefaultLongAfter
		if sc.Duration < 3*DefaultLongAfter {
			sc.LongAfter = max((sc.Duration / 3).Round(time.Millisecond), time.Millisecond)
		}
	}
	if sc.MaxDuration == 0 {
		sc.MaxDuration = 3 * sc.Duration
	}
	if sc.Interval == 0 {
		sc.Interval = DefaultInterval
		if sc.Duration < 10*DefaultInterval {
			sc.Interval = max((sc.Duration / 10).Round(time.Millisecond), MinInterval)
		}
	}
	switch {
	case sc.Clients < 1:
		return sc, Fault("Clients", fmt.Sprintf("{Clients} is %d; it must be at least 1", sc.Clients))
	case sc.Duration < 0:
		return sc, Fault("Duration", fmt.Sprintf("{Duration} is %v; it must be positive", sc.Duration))
	case sc.MaxDuration < sc.Duration:
		return sc, Fault("MaxDuration", fmt.Sprintf("{MaxDuration} %v is shorter than {Duration} %v: give at least {Duration}, or 0 for three times it", sc.MaxDuration, sc.Duration))
	case sc.Interval < MinInterval:
		return sc, Fault("Interval", fmt.Sprintf("{Interval} is %v; it must be at least %v", sc.Interval, MinInterval))
	case sc.Interval > sc.Duration:
		return sc, Fault("Interval", fmt.Sprintf("{Interval} %v is longer than {Duration} %v: set a shorter {Interval} or a longer {Duration}", sc.Interval, sc.Duration))
	case sc.Warmup < 0 || sc.Warmup >= sc.Duration:
		return sc, Fault("Warmup", fmt.Sprintf("{Warmup} is %v; it must be at least 0 and shorter than {Duration} %v", sc.Warmup, sc.Duration))
	case sc.LongAfter > 0 && sc.LongAfter < sc.Warmup:
		return sc, Fault("LongAfter", fmt.Sprintf("{LongAfter} %v falls inside the {Warmup} of %v: set a later {LongAfter} or a shorter {Warmup}", sc.LongAfter, sc.Warmup))
	case sc.LongAfter >= sc.Duration:
		return sc, Fault("LongAfter", fmt.Sprintf("{LongAfter} %v is not before the end of the run at {Duration} %v: set an earlier {LongAfter} or a longer {Duration}", sc.LongAfter, sc.Duration))
	case !sc.StartAt.IsZero() && !time.Now().Before(sc.StartAt):
		return sc, Fault("StartAt", fmt.Sprintf("{StartAt} %s is %v in the past: give a time to come", sc.StartAt.Format(time.RFC3339Nano), time.Since(sc.StartAt).Round(time.Millisecond)))
	case time.Until(sc.StartAt) > MaxStartWait:
		return sc, Fault("StartAt", fmt.Sprintf("{StartAt} %s is %v ahead, more than %v: give a nearer time", sc.StartAt.Format(time.RFC3339), time.Until(sc.StartAt).Round(time.Second), MaxStartWait))
	case sc.Longs < 0:
		return sc, Fault("Longs", fmt.Sprintf("{Longs} is %d; it must be 0 or more", sc.Longs))
	case sc.Rate < 0:
		return sc, Fault("Rate", fmt.Sprintf("{Rate} is %v; it must be positive, or 0 for closed loop", sc.Rate))
	}
	for _, f := range []struct{ name, request string }{{"Small", sc.Small}, {"Long", sc.Long}} {
		if strings.ContainsAny(f.request, "\r\n") {
			return sc, Fault(f.name, fmt.Sprintf("{%s} %q holds a line break; a request is one line", f.name, f.request))
		}
	}
	return sc, nil
}

// SendsLong reports whether the scenario sends a long request.
func (sc Scenario) SendsLong() bool { return sc.LongAfter >= 0 }
