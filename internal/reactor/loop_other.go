//go:build !linux

package reactor

import (
	"errors"
	"time"

	"github.com/primetime-lab/primetime/internal/gil"
)

// Supported reports whether this system has the event loop.
const Supported = false

// Serve returns an error: the event loop is built on epoll, which only
// Linux has.
func Serve(Listener, Executor, *gil.Thread, time.Duration) error {
	return errors.New("reactor: the event loop needs Linux")
}
