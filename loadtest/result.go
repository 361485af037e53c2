package loadtest

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// A Result is what a run of a Scenario measured. It encodes to JSON with
// WriteJSON and back with ReadJSON, so results can be saved and compared;
// durations are in nanoseconds.
type Result struct {
	// Label names the run's row in a Comparison ("perconn gil=5ms").
	Label string `json:"label,omitempty"`
	// Run is the run's number, from 1, when its row ran more than once;
	// 0 otherwise.
	Run int `json:"run,omitempty"`
	// Scenario is the scenario that ran, with its defaults filled in.
	Scenario Scenario `json:"scenario"`
	// Start and End bound the run.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Conditions are what the run was measured under.
	Conditions Conditions `json:"conditions"`
	// Intervals are the monitor's counts, in order.
	Intervals []Interval `json:"intervals"`
	// Events are what happened once: the long request sent and answered,
	// the first error of each kind.
	Events []Event `json:"events"`
	// Summary is the run in a few figures.
	Summary Summary `json:"summary"`
	// Parts are the runs a merged result was made of (see Merge), with
	// their conditions; nil for a run of one generator.
	Parts []Part `json:"parts,omitempty"`
}

// Name names the run: its Label, and its number when its row ran more
// than once ("perconn #2").
func (r *Result) Name() string {
	if r.Run > 0 {
		return fmt.Sprintf("%s #%d", r.Label, r.Run)
	}
	return r.Label
}

// An Interval is one of the monitor's counts of the small requests.
type Interval struct {
	// Start and End bound the interval; a request is counted in the
	// interval in which its answer arrived.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Answers counts the answers, Errors the failed requests and error
	// answers.
	Answers int `json:"answers"`
	Errors  int `json:"errors"`
	// Latency holds the percentiles of the answers' latencies.
	Latency Percentiles `json:"latency"`
	// Warmup is true for an interval that began during the warm-up; its
	// answers are left out of the summary.
	Warmup bool `json:"warmup,omitempty"`
	// GeneratorCPU is how many cores the load generator used during the
	// interval, and ServerCPU the server's process (with
	// Scenario.ServerPID; -1 if unknown).
	GeneratorCPU float64 `json:"generator_cpu"`
	ServerCPU    float64 `json:"server_cpu"`
	// LongInFlight is true if the long request was in flight during any
	// part of the interval.
	LongInFlight bool `json:"long_in_flight,omitempty"`
	// Histogram is the answers' latencies, in µs, as HdrHistogram's V2
	// compressed encoding: what Result.WriteHlog writes and what adds up
	// exactly across generators. Nil in results saved before it was kept.
	Histogram []byte `json:"hdr,omitempty"`
}

// Rate returns the interval's answers per second.
func (iv Interval) Rate() float64 {
	d := iv.End.Sub(iv.Start).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(iv.Answers) / d
}

// Percentiles summarise a set of latencies.
type Percentiles struct {
	// Mean is their mean.
	Mean time.Duration `json:"mean,omitempty"`
	P50  time.Duration `json:"p50"`
	P90  time.Duration `json:"p90"`
	P99  time.Duration `json:"p99"`
	P999 time.Duration `json:"p999"`
	Max  time.Duration `json:"max"`
}

// EventKind says what an Event was.
type EventKind string

// The kinds of events.
const (
	// LongSent: the long request was sent.
	LongSent EventKind = "long-sent"
	// LongAnswered: the long request was answered; Latency is its latency
	// and Detail the answer.
	LongAnswered EventKind = "long-answered"
	// LongFailed: the long request failed; Detail says how.
	LongFailed EventKind = "long-failed"
	// FirstError: the first small request to fail in a way; Detail says
	// which way and how.
	FirstError EventKind = "first-error"
)

// An Event is something that happened once during a run.
type Event struct {
	Time    time.Time     `json:"time"`
	Kind    EventKind     `json:"kind"`
	Latency time.Duration `json:"latency,omitempty"`
	Detail  string        `json:"detail,omitempty"`
}

// A Summary is a run in a few figures. Warm-up is left out of all of them.
type Summary struct {
	// Answers and Errors count the small requests after the warm-up.
	Answers int `json:"answers"`
	Errors  int `json:"errors"`
	// ErrorsByKind counts Errors by kind: connect, write, read, closed,
	// err-answer (an error answer: the server refused the request) and
	// bad-answer (an answer that cannot be decoded or is wrong).
	ErrorsByKind map[string]int `json:"errors_by_kind,omitempty"`
	// Closed counts the small requests' connections that the server
	// closed after an answer (an HTTP Connection: close), each followed by
	// a new connection; warm-up included.
	Closed int `json:"closed,omitempty"`
	// Latency holds the small requests' latency percentiles.
	Latency Percentiles `json:"latency"`
	// InFlight is how many small requests were in flight on average, by
	// Little's law: their throughput (answers and errors) times their
	// mean latency, after the warm-up and before the long request (while
	// it runs, requests wait whose latency is not yet known; with no
	// long request, the whole run). With closed-loop clients it is
	// close to Clients; a smaller figure says the generator kept its
	// clients idle between requests, so that the load was not what the
	// scenario says.
	InFlight float64 `json:"in_flight,omitempty"`
	// AnsweredClients counts the clients that got an answer in that same
	// span: a client the server never answered has a request in flight
	// all along, whose latency is never known.
	AnsweredClients int `json:"answered_clients,omitempty"`
	// Before, During and After are the small requests' answers per
	// second before the long request was sent, while it was in flight,
	// and after it was answered. With no long request, Before covers the
	// whole run.
	Before float64 `json:"before"`
	During float64 `json:"during"`
	After  float64 `json:"after"`
	// NoDuring and NoAfter say that During or After had no window, and
	// are 0 for that reason: no long request was sent (neither), or it
	// was not over before the run ended (After).
	NoDuring bool `json:"no_during,omitempty"`
	NoAfter  bool `json:"no_after,omitempty"`
	// Kept is During / Before: the share of the small requests'
	// throughput that survived while the long request ran. It is
	// reported only when the long request got its right answer and some
	// small requests were answered before it; otherwise it is 0 and
	// KeptMissing says why.
	Kept        float64 `json:"kept"`
	KeptMissing string  `json:"kept_missing,omitempty"`
	// LongSent says whether the long request was sent. LongAnswered says
	// whether it got its answer, right, before the run ended, and
	// LongRefused whether it got an error answer instead (a line starting
	// "ERR", an HTTP status other than 200); LongAnswer is either answer.
	// LongError says how it failed if it got neither: it could not
	// connect, the connection broke, or its answer was wrong (bad-answer).
	// LongLatency is how long it took to be answered or to fail.
	LongSent     bool          `json:"long_sent"`
	LongAnswered bool          `json:"long_answered"`
	LongRefused  bool          `json:"long_refused,omitempty"`
	LongLatency  time.Duration `json:"long_latency,omitempty"`
	LongAnswer   string        `json:"long_answer,omitempty"`
	LongError    string        `json:"long_error,omitempty"`
	// LongsAnswered counts the answers to the Longs clients' long
	// requests, and LongsError says how the first of them failed, if one
	// did (that client then stops).
	LongsAnswered int    `json:"longs_answered,omitempty"`
	LongsError    string `json:"longs_error,omitempty"`
	// GeneratorBound says that the load generator, rather than the server,
	// may have set the pace before the long request: the machine's CPUs
	// were nearly all busy and the generator took at least as much as the
	// server (or, with the server's CPU unknown, nearly all of them).
	// GeneratorWhy gives the figures.
	GeneratorBound bool   `json:"generator_bound,omitempty"`
	GeneratorWhy   string `json:"generator_why,omitempty"`
}

// WriteJSON writes r as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error { return writeJSON(w, r) }

// ReadJSON reads a Result written by WriteJSON. It refuses fields a Result
// lacks, and JSON without a scenario or a start.
func ReadJSON(rd io.Reader) (*Result, error) { return readJSON[Result](rd, "a result") }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// readJSON decodes a T, refusing fields that T does not have, and a T that
// nothing saved: one without its scenario or its figures, such as {}.
func readJSON[T any, P interface {
	*T
	checkSaved() error
}](rd io.Reader, what string) (*T, error) {
	var v T
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("loadtest: reading %s: %w", what, err)
	}
	if err := P(&v).checkSaved(); err != nil {
		return nil, fmt.Errorf("loadtest: reading %s: %w", what, err)
	}
	return &v, nil
}

// csvHeader names the columns of WriteCSV.
var csvHeader = []string{
	"start", "offset_s", "duration_s", "answers", "errors", "answers_per_s",
	"p50_us", "p90_us", "p99_us", "p999_us", "max_us", "warmup", "long_in_flight",
}

// WriteCSV writes r's intervals as CSV, one row per interval, with a header.
// start is RFC 3339 with nanoseconds; offset_s counts from the run's start;
// latencies are in microseconds.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	us := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e3, 'f', 1, 64) }
	for _, iv := range r.Intervals {
		row := []string{
			iv.Start.Format(time.RFC3339Nano),
			strconv.FormatFloat(iv.Start.Sub(r.Start).Seconds(), 'f', 3, 64),
			strconv.FormatFloat(iv.End.Sub(iv.Start).Seconds(), 'f', 3, 64),
			strconv.Itoa(iv.Answers),
			strconv.Itoa(iv.Errors),
			strconv.FormatFloat(iv.Rate(), 'f', 1, 64),
			us(iv.Latency.P50), us(iv.Latency.P90), us(iv.Latency.P99), us(iv.Latency.P999), us(iv.Latency.Max),
			strconv.FormatBool(iv.Warmup),
			strconv.FormatBool(iv.LongInFlight),
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
