//go:build !unix

package main

import "time"

// threadCPU has no thread CPU clock to read here: 0, and callers fall back
// to the wall clock.
func threadCPU() time.Duration { return 0 }
