//go:build !linux

package server

import "github.com/primetime-lab/primetime/internal/gil"

// A selfWatch is Linux's; elsewhere the watchdog's background read alone
// notices a client that leaves, and a conn's tasks' context carries only
// its lane, when a timeline is recorded.
type selfWatch struct{}

func (c *conn) watchSelf() {
	if c.lane != nil {
		c.taskCtx = gil.WithRunning(c.ctx, &gil.Running{Lane: c.lane})
	}
}
