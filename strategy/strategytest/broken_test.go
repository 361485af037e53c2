package strategytest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/strategy"
	"github.com/primetime-lab/primetime/strategy/strategytest"
)

// envBroken names the broken executor that TestBrokenExecutor checks, in
// the test binary that TestTheSuiteFailsWhatBreaksTheContract starts.
const envBroken = "STRATEGYTEST_BROKEN"

// broken is an executor that breaks the contract in one way: "wrong"
// answers every task with the answer of the task before it; "leak" leaves
// a goroutine behind when it stops; "direct" runs each task itself on a
// goroutine of its own, not as Python mode's thread, and does not wait for
// them; "deaf" runs each task under a context that never ends.
type broken struct{ how string }

func (b broken) String() string { return "broken-" + b.how }

func (b broken) Start(env strategy.Env) (strategy.Runner, error) {
	r := &brokenRunner{how: b.how, env: env, stop: make(chan struct{})}
	if b.how == "leak" {
		go func() { <-r.stop; select {} }()
	}
	return r, nil
}

type brokenRunner struct {
	how  string
	env  strategy.Env
	stop chan struct{}
	mu   sync.Mutex
	last []byte
}

func (r *brokenRunner) Submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	switch r.how {
	case "direct":
		go func() { done(t.Run(ctx, payload)) }()
		return
	case "deaf":
		ctx = context.WithoutCancel(ctx)
	}
	answer, err := r.env.Run(ctx, t, payload)
	if r.how == "wrong" {
		r.mu.Lock()
		answer, r.last = r.last, answer
		r.mu.Unlock()
	}
	done(answer, err)
}

func (r *brokenRunner) Stop() { close(r.stop) }

// TestBrokenExecutor runs the suite for the broken executor the
// environment names; it is meant to fail, in a process of its own.
func TestBrokenExecutor(t *testing.T) {
	how := os.Getenv(envBroken)
	if how == "" {
		t.Skip("run by TestTheSuiteFailsWhatBreaksTheContract")
	}
	strategytest.Run(t, strategy.Offload(strategy.PerConn(), broken{how: how}))
}

func TestTheSuiteFailsWhatBreaksTheContract(t *testing.T) {
	for how, check := range map[string]string{"wrong": "AnswersInOrder", "leak": "NoLeaks", "direct": "PythonMode", "deaf": "LeavingCancelsTheTask"} {
		t.Run(how, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenExecutor$", "-test.v")
			cmd.Env = append(os.Environ(), envBroken+"="+how)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed an executor that breaks the contract:\n%s", out)
			}
			if !strings.Contains(string(out), "--- FAIL: TestBrokenExecutor/"+check) {
				t.Errorf("the suite did not fail %s:\n%s", check, out)
			}
		})
	}
}
