package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/primetime-lab/primetime"
)

// AnyAnswer is a Scenario.Check that takes every answer as right: for a
// task whose answers the load generator cannot know.
func AnyAnswer(request, answer []byte) error { return nil }

// TaskAnswers returns a Scenario.Check for a deterministic task: it runs t
// here on each distinct request, once, and takes an answer only if it is
// t's. Runs share the answers they have computed. The long request is
// checked once its run is over, so that its computation takes no CPU from
// the run.
func TaskAnswers(t primetime.Task) func(request, answer []byte) error {
	var answers sync.Map // request → answer
	return func(request, answer []byte) error {
		want, ok := answers.Load(string(request))
		if !ok {
			a, err := t.Run(context.Background(), request)
			if err != nil {
				return fmt.Errorf("task %s refuses the request here: %w", t.Name(), err)
			}
			want, _ = answers.LoadOrStore(string(request), a)
		}
		if !bytes.Equal(answer, want.([]byte)) {
			return fmt.Errorf("want %q", want)
		}
		return nil
	}
}

// maxCheckedN is the largest n whose prime the default check computes: a
// larger one would cost the generator more than a run's worth of CPU.
const maxCheckedN = 20000

// primes caches the answers of the prime task that the default check has
// computed, by n, for every run of this process.
var primes sync.Map

// primeAnswer returns the prime task's answer to payload, and false if
// payload is not a number n the default check covers.
func primeAnswer(payload []byte) ([]byte, bool) {
	n, err := strconv.Atoi(string(payload))
	if err != nil || n < 1 || n > maxCheckedN {
		return nil, false
	}
	if a, ok := primes.Load(n); ok {
		return a.([]byte), true
	}
	p, err := primetime.NthPrime(context.Background(), n)
	if err != nil {
		return nil, false
	}
	a := strconv.AppendInt(nil, int64(p), 10)
	primes.Store(n, a)
	return a, true
}

// checker checks the answers to one request of a scenario.
type checker struct {
	request []byte
	custom  func(request, answer []byte) error
	want    []byte // the default check's answer, or nil for none
}

// newChecker returns the check of request's answers: sc.Check's, or by
// default the prime task's answer when the request is a number. With lazy
// set, the default answer is computed on the first check rather than now.
func newChecker(sc Scenario, request string, lazy bool) *checker {
	c := &checker{request: []byte(request), custom: sc.Check}
	if c.custom == nil && sc.Target != nil {
		c.custom = sc.Target.expectCheck()
	}
	if c.custom == nil && !lazy {
		c.want, _ = primeAnswer(c.request)
	}
	return c
}

// check returns an error that says why answer is wrong, or nil.
func (c *checker) check(answer []byte) error {
	if c.custom != nil {
		if err := c.custom(c.request, answer); err != nil {
			return fmt.Errorf("answer %q to %q: %w", answer, c.request, err)
		}
		return nil
	}
	want := c.want
	if want == nil {
		if want, _ = primeAnswer(c.request); want == nil {
			return nil
		}
	}
	if !bytes.Equal(answer, want) {
		return fmt.Errorf("answer %q to %q, want %q", answer, c.request, want)
	}
	return nil
}
