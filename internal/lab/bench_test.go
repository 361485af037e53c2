package lab

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// serveLab serves l on loopback for a benchmark, and returns its URL and
// how to stop it.
func serveLab(b *testing.B, l *Lab) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: l.Handler(ln.Addr().String(), false)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() {
		l.Close()
		srv.Shutdown(context.Background())
		<-served
	}
}

// BenchmarkStartToFirstPoint measures, through the page's own API and
// event stream, the time from Start to the first interval's event (a Go
// perconn server's start included), and from an interval's close to its
// event's arrival.
func BenchmarkStartToFirstPoint(b *testing.B) {
	l := &Lab{Interval: 100 * time.Millisecond}
	url, stop := serveLab(b, l)
	defer stop()
	resp, err := http.Get(url + "/api/events")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	dec := eventReader(resp)
	var first, lag time.Duration
	var lags int
	for b.Loop() {
		start := time.Now()
		r, err := http.Post(url+"/api/start", "application/json", strings.NewReader(`{"strategy":"perconn","runtime":"go"}`))
		if err != nil {
			b.Fatal(err)
		}
		r.Body.Close()
		for n := 0; n < 10; {
			e := dec()
			if e.Type != "interval" {
				continue
			}
			now := time.Now()
			if n == 0 {
				first += now.Sub(start)
			}
			end := time.UnixMilli(int64(e.Data.(map[string]any)["end"].(float64)))
			lag += now.Sub(end)
			lags++
			n++
		}
		l.Stop()
	}
	b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "ms-to-first-point")
	b.ReportMetric(float64(lag.Microseconds())/float64(lags)/1000, "ms-close-to-event")
}

// eventReader returns a function that reads the next event of a stream.
func eventReader(resp *http.Response) func() Event {
	buf := make([]byte, 0, 64<<10)
	return func() Event {
		for {
			if i := strings.Index(string(buf), "\n\n"); i >= 0 {
				msg := string(buf[:i])
				buf = append(buf[:0], buf[i+2:]...)
				if data, ok := strings.CutPrefix(msg, "data: "); ok {
					var e Event
					json.Unmarshal([]byte(data), &e)
					return e
				}
				continue
			}
			chunk := make([]byte, 4096)
			n, err := resp.Body.Read(chunk)
			if err != nil {
				panic(err)
			}
			buf = append(buf, chunk[:n]...)
		}
	}
}

// BenchmarkTheLivePageCosts runs the Go perconn section twice per
// iteration, without a page and then with the page open in Chromium,
// and reports kept and before/s of each: whether watching costs the
// experiment anything.
func BenchmarkTheLivePageCosts(b *testing.B) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		b.Skip(err)
	}
	alternate(b, "page", func(page bool) (float64, float64) { return runSection(b, browser, page, false) })
}

// BenchmarkTheLanesCost runs the Go perconn section twice per iteration,
// its server recording its timeline for the lanes or not, and reports
// kept and before/s of each.
func BenchmarkTheLanesCost(b *testing.B) {
	alternate(b, "lanes", func(lanes bool) (float64, float64) { return runSection(b, "", false, lanes) })
}

// alternate runs a section without and then with what is named, once per
// iteration, and reports the kept and before/s of each, averaged.
func alternate(b *testing.B, name string, run func(with bool) (kept, before float64)) {
	var kept, before [2]float64
	for b.Loop() {
		for i, with := range []bool{false, true} {
			k, bf := run(with)
			kept[i], before[i] = kept[i]+k, before[i]+bf
		}
	}
	n := float64(b.N)
	b.ReportMetric(100*kept[0]/n, "kept%-no-"+name)
	b.ReportMetric(100*kept[1]/n, "kept%-"+name)
	b.ReportMetric(before[0]/n, "before/s-no-"+name)
	b.ReportMetric(before[1]/n, "before/s-"+name)
}

// runSection runs Go's perconn for 1.5 s, with the page open or not and
// recording its lanes or not, sends the long request and returns its kept
// and before-rate.
func runSection(b *testing.B, browser string, page, lanes bool) (kept, before float64) {
	l := &Lab{Interval: 100 * time.Millisecond}
	url, stop := serveLab(b, l)
	defer stop()
	events, unsubscribe := l.Subscribe()
	defer unsubscribe()
	if page {
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.WindowSize(1280, 720))...)
		defer cancelAlloc()
		ctx, cancel := chromedp.NewContext(alloc)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Navigate(url+"/")); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := l.Start(Settings{Strategy: "perconn", Runtime: RuntimeGo, Lanes: lanes}); err != nil {
		b.Fatal(err)
	}
	for n := 0; n < 15; {
		if e := <-events; e.Type == "interval" {
			n++
		}
	}
	if err := l.Long(); err != nil {
		b.Fatal(err)
	}
	for e := range events {
		if e.Type == "kept" {
			d := e.Data.(map[string]any)
			k, _ := d["kept"].(float64)
			return k, d["before"].(float64)
		}
	}
	b.Fatal("no kept")
	return 0, 0
}
