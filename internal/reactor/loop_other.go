//go:build !linux

package reactor

import "errors"

// Supported reports whether this system has the event loop.
const Supported = false

// Serve returns an error: the event loop is built on epoll, which only
// Linux has.
func Serve(Listener, Config) error {
	return errors.New("reactor: the event loop needs Linux")
}
