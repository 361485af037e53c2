//go:build !linux

package reexec

func pinAndExec([]int, string, []string, []string) error { return errNoAffinity }

func allowedCPUs() ([]int, error) { return nil, errNoAffinity }
