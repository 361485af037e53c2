//go:build !linux

package reexec

import "errors"

// errNoAffinity is the error where CPU affinity cannot be set.
var errNoAffinity = errors.New("this system has no CPU affinity for primetime to set")

func pinAndExec([]int, string, []string, []string) error { return errNoAffinity }

func allowedCPUs() ([]int, error) { return nil, errNoAffinity }
