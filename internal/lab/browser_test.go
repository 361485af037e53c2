package lab

import (
	"context"
	"flag"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/proctest"
)

var screenshot = flag.String("screenshot", "", "save the browser test's screenshot of the page to this file (docs/lab.png)")

// TestTheLabInABrowser drives the page in Chromium as a teacher would: the
// asyncio section, its live points, the long request (the flow stops), then
// Go's answer (it goes on) and the lanes of its long request's arrival, and
// no process left once the lab stops.
func TestTheLabInABrowser(t *testing.T) {
	browser := proctest.Tool(t, "chromium")
	l := &Lab{Interval: 100 * time.Millisecond}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: l.Handler(ln.Addr().String(), false)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		require.NoError(t, l.Close())
		require.NoError(t, srv.Shutdown(context.Background()))
		<-served
		assert.Empty(t, proctest.Children(), "no server, worker or browser is left")
	}()

	alloc, cancelAlloc := chromedp.NewExecAllocator(proctest.Context(t), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.WindowSize(1280, 720))...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()

	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`["state", "error", "rate", "kept", "longtime"].map(id => id + ": " + document.getElementById(id).textContent).join("; ") + "; points " + xs.length`))
			t.Fatalf("%s: %v; the page: %s", what, err, state)
		}
	}
	// until waits for a JavaScript expression to be true.
	until := func(expr string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Poll[bool](expr)(ctx, tg)
			return chromedp.Void{}, err
		}
	}
	// keptAfterLong waits for live points, sends the long request with
	// the space bar and returns the kept the page shows once measured.
	keptAfterLong := func(section string) float64 {
		t.Helper()
		do(section,
			until(`!document.getElementById("long").disabled && document.getElementById("rate").textContent !== "–" && xs.length >= 12`), // live points arrive
			chromedp.KeyEvent(" "),
			until(`/%$/.test(document.getElementById("kept").textContent)`))
		kept, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("kept").textContent`))
		require.NoError(t, err)
		v, err := strconv.ParseFloat(strings.TrimSuffix(kept, "%"), 64)
		require.NoError(t, err, "%s: kept %q", section, kept)
		return v / 100
	}

	do("open the page", chromedp.Navigate("http://"+ln.Addr().String()+"/"),
		until(`document.querySelectorAll("#presets button").length === 9`), chromedp.KeyEvent("6")) // asyncio
	loop := keptAfterLong("asyncio")
	assert.Less(t, loop, 0.1, "the event loop serves nobody while the long request runs")

	do("Go's answer", chromedp.KeyEvent("9"), until(`document.getElementById("kept").textContent === "–"`))
	goKept := keptAfterLong("go")
	assert.Greater(t, goKept, loop, "goroutines keep more of the flow than the loop")
	do("the lanes of the long request's arrival", until(`(() => {
		const f = document.getElementById("lanes");
		return !document.getElementById("lanes-box").hidden && f.contentDocument && f.contentDocument.querySelectorAll("#lanes canvas").length > 0;
	})()`))
	lanes, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("lanes").contentDocument.querySelector(".lane-row h3").textContent`))
	require.NoError(t, err)
	assert.Equal(t, "perconn", lanes, "the section's lanes, drawn by the report's code")
	if *screenshot != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(*screenshot, png, 0o644))
	}
	do("stop", chromedp.KeyEvent(kb.Escape), until(`document.querySelectorAll("#table tbody tr").length === 2`))
	cancel()
	cancelAlloc()
}
