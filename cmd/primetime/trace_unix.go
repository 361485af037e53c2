//go:build unix

package main

import (
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/primetime-lab/primetime/server"
)

// writeTraceOnSignal writes srv's trace to name on each SIGUSR1, for a
// server that goes on serving, until the returned function is called.
func writeTraceOnSignal(srv *server.Server, name string, logger *slog.Logger) (stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-sig:
				if err := writeTrace(srv, name); err != nil {
					logger.Error("trace not written", "file", name, "err", err)
				} else {
					logger.Info("trace written", "file", name)
				}
			case <-done:
				return
			}
		}
	})
	return func() {
		signal.Stop(sig)
		close(done)
		wg.Wait()
	}
}
