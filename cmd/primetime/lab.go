package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"time"

	"github.com/primetime-lab/primetime/internal/lab"
)

// labShutdown bounds the wait for the lab's page connections as it stops.
const labShutdown = 5 * time.Second

// runLab serves the lab's page until ctx ends, then stops every server it
// started.
func runLab(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := newCommand("lab", "primetime lab [-addr 127.0.0.1:0] [-open] [-public]", stdout, stderr)
	addr := c.String("addr", "127.0.0.1:0", "serve the page on this `address` (port 0: a free one)")
	open := c.Bool("open", false, "open the page in a browser")
	public := c.Bool("public", false, "let -addr be an address other machines reach: they can then start servers on this machine")
	if code, ok := c.parse(args, 0); !ok {
		return code
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return c.usageError(fmt.Sprintf("-addr %q is not a host:port", *addr))
	}
	if ip := net.ParseIP(host); !*public && (ip == nil || !ip.IsLoopback()) && host != "localhost" {
		return c.usageError(fmt.Sprintf("-addr %s is not a loopback address, and whoever reaches the lab starts servers on this machine: give one such as 127.0.0.1:8080, or add -public if that is meant", *addr))
	}
	if checkOnly {
		return 0
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return c.fail(err, 1)
	}
	lb := &lab.Lab{Stderr: stderr}
	srv := &http.Server{Handler: lb.Handler(l.Addr().String(), *public), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	url := "http://" + l.Addr().String() + "/"
	fmt.Fprintf(stdout, "lab: %s (Ctrl-C stops it, and every server it started)\n", url)
	if *open {
		if err := openBrowser(url); err != nil {
			fmt.Fprintf(stderr, "primetime lab: could not open a browser (%v): open %s\n", err, url)
		}
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	// The lab first: it ends the pages' event streams, which would keep
	// Shutdown waiting.
	closeErr := lb.Close()
	shutCtx, cancel := context.WithTimeout(context.Background(), labShutdown)
	defer cancel()
	shutErr := srv.Shutdown(shutCtx)
	if serveErr == nil {
		serveErr = <-served
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if err := errors.Join(serveErr, closeErr, shutErr); err != nil {
		return c.fail(err, 1)
	}
	return 0
}

// openBrowser opens url with the system's opener, and waits for it.
func openBrowser(url string) error {
	name := "xdg-open"
	if runtime.GOOS == "darwin" {
		name = "open"
	}
	return exec.Command(name, url).Run()
}
