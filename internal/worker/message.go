package worker

import (
	"context"
	"fmt"
	"strings"
)

// The bodies of a run, a failure and a handshake, for transports other than
// a worker's pipes (the NATS executor's messages): the same bytes as the
// frames' bodies, so that a task's request and its outcome are encoded once.

// RunMessage returns the body of a request to run task on payload.
func RunMessage(task string, payload []byte) ([]byte, error) {
	parts, err := runBody(task, payload)
	if err != nil {
		return nil, err
	}
	return join(parts), nil
}

// ParseRunMessage splits a RunMessage into the task's name and the payload,
// which shares b's memory.
func ParseRunMessage(b []byte) (task string, payload []byte, err error) { return parseRun(b) }

// HelloMessage returns a worker's handshake: the protocol's magic and the
// names of the tasks it has registered.
func HelloMessage(names []string) []byte {
	return []byte(magic + "\n" + strings.Join(names, "\n"))
}

// ParseHello returns the task names of a HelloMessage, or an error if b is
// not the handshake of this version of the protocol.
func ParseHello(b []byte) (map[string]bool, error) {
	names, ok := strings.CutPrefix(string(b), magic+"\n")
	if !ok {
		return nil, fmt.Errorf("a handshake other than %s's (%.40q)", magic, b)
	}
	tasks := make(map[string]bool)
	for _, name := range strings.Split(names, "\n") {
		tasks[name] = true
	}
	return tasks, nil
}

// Outcome runs the task named name as a worker does, recovering a panic,
// and returns its answer, or, if failed, the body of its failure, which
// ParseFailure reads.
func Outcome(ctx context.Context, name string, payload []byte, run RunFunc, badRequest error) (answer []byte, failure []byte, failed bool) {
	kind, parts := outcome(ctx, name, payload, run, badRequest)
	if kind == kindAnswer {
		return parts[0], nil, false
	}
	return nil, join(parts), true
}

// ParseFailure returns the error that a failure's body reports.
func ParseFailure(b []byte) (*RemoteError, error) {
	code, msg, stack, err := parseFail(b)
	if err != nil {
		return nil, err
	}
	return &RemoteError{Code: code, Msg: msg, Stack: stack}, nil
}

func join(parts [][]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// FailureMessage returns the body of a failure with code and msg, for a
// run that failed before its task could run.
func FailureMessage(code Code, msg string) []byte { return join(failBody(code, msg, nil)) }
