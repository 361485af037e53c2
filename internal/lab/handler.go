package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/loadtest/report"
)

// maxBody bounds a request's body: settings are a few fields.
const maxBody = 4 << 10

// Handler returns the lab's page and its API. host is the lab's own
// host:port: a request whose Host is another (a DNS rebinding), or whose
// Origin is not the lab's own page, is refused; with public set, any Host
// is taken, and the Origin must still be the page's own.
func (l *Lab) Handler(host string, public bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", l.page)
	mux.HandleFunc("GET /api/presets", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"presets": Presets, "runtimes": Runtimes, "maxClients": MaxClients})
	})
	mux.HandleFunc("POST /api/start", l.start)
	mux.HandleFunc("POST /api/long", func(w http.ResponseWriter, r *http.Request) {
		switch err := l.Long(); {
		case errors.Is(err, ErrBusy), errors.Is(err, ErrIdle):
			http.Error(w, err.Error(), http.StatusConflict)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	})
	mux.HandleFunc("POST /api/stop", func(w http.ResponseWriter, r *http.Request) {
		l.Stop()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/events", l.events)
	mux.HandleFunc("GET /api/comparison.json", func(w http.ResponseWriter, r *http.Request) {
		cmp := l.Comparison()
		if cmp == nil {
			http.Error(w, "no section has run yet", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Disposition", `attachment; filename="lab.json"`)
		w.Header().Set("Content-Type", "application/json")
		cmp.WriteJSON(w)
	})
	mux.HandleFunc("GET /api/lanes.html", func(w http.ResponseWriter, r *http.Request) {
		row, ok := l.Lanes()
		if !ok {
			http.Error(w, "no long request of this section has been answered yet", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		report.Lanes(w, &loadtest.Comparison{Scenario: loadtest.Scenario{Long: row.Long}, Rows: []loadtest.Row{row}})
	})
	mux.HandleFunc("GET /api/report.html", func(w http.ResponseWriter, r *http.Request) {
		cmp := l.Comparison()
		if cmp == nil {
			http.Error(w, "no section has run yet", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		report.HTML(w, cmp)
	})
	return guard(mux, host, public)
}

// guard refuses requests that are not for the lab's own host, or that
// come from another page.
func guard(next http.Handler, host string, public bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !public && r.Host != host {
			http.Error(w, fmt.Sprintf("this lab serves %s, not %q", host, r.Host), http.StatusMisdirectedRequest)
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" && origin != "http://"+r.Host {
			http.Error(w, fmt.Sprintf("requests from %q are refused: the lab answers its own page only", origin), http.StatusForbidden)
			return
		}
		if r.Method != http.MethodGet && r.Header.Get("Sec-Fetch-Site") == "cross-site" {
			http.Error(w, "cross-site requests are refused", http.StatusForbidden)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "SAMEORIGIN") // the page frames the lanes

		next.ServeHTTP(w, r)
	})
}

// start starts the server the posted settings, or the named preset, ask
// for.
func (l *Lab) start(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Preset string `json:"preset"`
		Settings
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "settings: "+err.Error(), http.StatusBadRequest)
		return
	}
	s := req.Settings
	if req.Preset != "" {
		p, ok := PresetByID(req.Preset)
		if !ok {
			http.Error(w, fmt.Sprintf("no preset %q", req.Preset), http.StatusBadRequest)
			return
		}
		s.Strategy, s.Runtime, s.GIL = p.Run.Strategy, p.Run.Runtime, p.Run.GIL
		if req.Runtime == RuntimeCPython || req.Runtime == RuntimeJVM {
			s.Runtime = req.Runtime // the section under CPython or the JVM, where it has the shape
			if s.Runtime == RuntimeJVM {
				s.GIL = ""
			}
		}
	}
	s, err := l.Start(s)
	if errors.Is(err, ErrClosed) {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, s)
}

// events streams the lab's events as server-sent events, until the page
// goes or the lab stops. When the last page goes, the server stops: a
// class that closed its page leaves nothing running.
func (l *Lab) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming is not supported", http.StatusInternalServerError)
		return
	}
	events, unsubscribe := l.Subscribe()
	defer func() {
		if unsubscribe(); l.hub.count() == 0 {
			l.Stop()
		}
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, ": primetime lab\n\n")
	flusher.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			b, _ := json.Marshal(e) // maps of numbers and strings
			if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
