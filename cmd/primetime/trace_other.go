//go:build !unix

package main

import (
	"log/slog"

	"github.com/primetime-lab/primetime/server"
)

// writeTraceOnSignal does nothing where there is no SIGUSR1: the trace is
// written on exit.
func writeTraceOnSignal(*server.Server, string, *slog.Logger) (stop func()) { return func() {} }
