//go:build !linux

package server

// A selfWatch is Linux's; elsewhere the watchdog's background read alone
// notices a client that leaves.
type selfWatch struct{}

func (c *conn) watchSelf() {}
