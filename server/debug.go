package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DebugHandler returns the handler of the server's debug listener (see
// Server.DebugAddr): /debug/vars, the server's counters and the runtime's
// memory statistics as JSON in expvar's form, and /debug/pprof/, the
// runtime's profiles, which go tool pprof reads. It is built on
// runtime/pprof rather than on net/http/pprof and expvar, which would add
// their handlers to http.DefaultServeMux of every program that imports
// this package.
func (s *Server) DebugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/vars", s.serveVars)
	mux.HandleFunc("GET /debug/pprof/", servePprofIndex)
	mux.HandleFunc("GET /debug/pprof/profile", serveCPUProfile)
	mux.HandleFunc("GET /debug/pprof/trace", serveTrace)
	mux.HandleFunc("GET /debug/pprof/cmdline", serveCmdline)
	mux.HandleFunc("GET /debug/pprof/symbol", serveSymbol)
	mux.HandleFunc("POST /debug/pprof/symbol", serveSymbol)
	mux.HandleFunc("GET /debug/pprof/{name}", serveProfile)
	return mux
}

// vars is the server's part of /debug/vars.
type vars struct {
	Strategy         string  `json:"strategy"`
	Task             string  `json:"task"`
	Protocol         string  `json:"protocol"`
	Accepted         uint64  `json:"accepted"`
	Open             int64   `json:"open"`
	Requests         uint64  `json:"requests"`
	Answered         uint64  `json:"answered"`
	Errors           uint64  `json:"errors"`
	WorkersAlive     int64   `json:"workers_alive"`
	WorkersRestarted uint64  `json:"workers_restarted"`
	GILInterval      string  `json:"gil_switch_interval,omitempty"`
	GILSwitches      *uint64 `json:"gil_switches,omitempty"`
}

func (s *Server) serveVars(w http.ResponseWriter, _ *http.Request) {
	st := s.Stats()
	v := vars{
		Strategy: s.strategy().String(), Task: s.task().Name(), Protocol: string(s.proto),
		Accepted: st.Accepted, Open: st.Open, Requests: st.Requests, Answered: st.Answered, Errors: st.Errors,
		WorkersAlive: s.metrics.Alive(), WorkersRestarted: s.metrics.Restarted(),
	}
	s.mu.Lock()
	python := s.python
	s.mu.Unlock()
	if python != nil {
		switches := python.Lock().Switches()
		v.GILInterval, v.GILSwitches = python.Lock().Interval().String(), &switches
	}
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(map[string]any{"cmdline": os.Args, "memstats": mem, "primetime": v})
}

func servePprofIndex(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "profiles (add ?debug=1 for text):")
	fmt.Fprintln(w, "profile?seconds=N")
	fmt.Fprintln(w, "trace?seconds=N")
	fmt.Fprintln(w, "cmdline")
	fmt.Fprintln(w, "symbol")
	for _, p := range pprof.Profiles() {
		fmt.Fprintf(w, "%s (%d)\n", p.Name(), p.Count())
	}
}

func serveProfile(w http.ResponseWriter, r *http.Request) {
	p := pprof.Lookup(r.PathValue("name"))
	if p == nil {
		http.Error(w, "no such profile", http.StatusNotFound)
		return
	}
	debug, _ := strconv.Atoi(r.FormValue("debug"))
	if debug > 0 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	p.WriteTo(w, debug)
}

// cpuProfiling is held while a CPU profile is taken: the runtime takes one
// at a time.
var cpuProfiling sync.Mutex

func serveCPUProfile(w http.ResponseWriter, r *http.Request) {
	secs, err := strconv.Atoi(r.FormValue("seconds"))
	if err != nil || secs <= 0 {
		secs = 30
	}
	if !cpuProfiling.TryLock() {
		http.Error(w, "a CPU profile is being taken already", http.StatusConflict)
		return
	}
	defer cpuProfiling.Unlock()
	w.Header().Set("Content-Type", "application/octet-stream")
	if err := pprof.StartCPUProfile(w); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	select {
	case <-time.After(time.Duration(secs) * time.Second):
	case <-r.Context().Done():
	}
	pprof.StopCPUProfile()
}

// serveTrace writes an execution trace of the next seconds (1 by default,
// fractions allowed), which go tool trace shows: each goroutine's and
// thread's time, the view of a scheduler.
func serveTrace(w http.ResponseWriter, r *http.Request) {
	secs, err := strconv.ParseFloat(r.FormValue("seconds"), 64)
	if err != nil || secs <= 0 {
		secs = 1
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="trace"`)
	if err := trace.Start(w); err != nil {
		// The runtime takes one trace at a time.
		w.Header().Del("Content-Disposition")
		http.Error(w, "cannot trace: "+err.Error(), http.StatusConflict)
		return
	}
	select {
	case <-time.After(time.Duration(secs * float64(time.Second))):
	case <-r.Context().Done():
	}
	trace.Stop()
}

// serveCmdline writes the command line, its arguments separated by NULs,
// as net/http/pprof does.
func serveCmdline(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, strings.Join(os.Args, "\x00"))
}

// serveSymbol maps program counters to function names for pprof, as
// net/http/pprof does: the counters, in hex, joined by '+', come in the
// body of a POST or in the query of a GET.
func serveSymbol(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var out strings.Builder
	fmt.Fprintln(&out, "num_symbols: 1")
	list := r.URL.RawQuery
	if r.Method == http.MethodPost {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		list = string(body)
	}
	for word := range strings.SplitSeq(list, "+") {
		pc, err := strconv.ParseUint(strings.TrimSpace(word), 0, 64)
		if err != nil || pc == 0 {
			continue
		}
		if f := runtime.FuncForPC(uintptr(pc)); f != nil {
			fmt.Fprintf(&out, "%#x %s\n", pc, f.Name())
		}
	}
	io.WriteString(w, out.String())
}

// serveDebug starts the debug listener on addr, and returns a function that
// closes it and waits for it.
func (s *Server) serveDebug(addr string) (stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: debug listener: %w", err)
	}
	hs := &http.Server{Handler: s.DebugHandler(), ReadHeaderTimeout: 10 * time.Second}
	var wg sync.WaitGroup
	wg.Go(func() { hs.Serve(l) })
	s.logger().Info("debug listener", "addr", l.Addr().String(), "vars", "/debug/vars", "profiles", "/debug/pprof/")
	return func() {
		hs.Close()
		wg.Wait()
	}, nil
}

// debugAddr is DebugAddr, checked.
func (s *Server) debugAddr() string { return strings.TrimSpace(s.DebugAddr) }
