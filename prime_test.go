package primetime_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime"
)

func TestNthPrimeKnownValues(t *testing.T) {
	cases := []struct{ n, want int }{
		{1, 2}, {2, 3}, {3, 5}, {4, 7}, {5, 11}, {10, 29}, {100, 541}, {1000, 7919},
	}
	if !testing.Short() {
		cases = append(cases, struct{ n, want int }{10000, 104729})
	}
	for _, c := range cases {
		got, err := primetime.NthPrime(context.Background(), c.n)
		require.NoError(t, err, "n=%d", c.n)
		assert.Equal(t, c.want, got, "n=%d", c.n)
	}
}

func TestNthPrimeRejectsNonPositiveN(t *testing.T) {
	for _, n := range []int{0, -1, -1000} {
		_, err := primetime.NthPrime(context.Background(), n)
		assert.ErrorContains(t, err, "n must be at least 1", "n=%d", n)
	}
}

func TestNthPrimeReturnsAtOnceWhenContextIsDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := primetime.NthPrime(ctx, 10)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, got)
}

// countdownContext reports itself cancelled after its Err method has been
// called a given number of times: a cancellation that arrives in the middle
// of a computation, at a point the test chooses.
type countdownContext struct {
	context.Context
	left int
}

func (c *countdownContext) Err() error {
	c.left--
	if c.left < 0 {
		return context.Canceled
	}
	return nil
}

func TestNthPrimeStopsMidwayWhenContextEnds(t *testing.T) {
	// The millionth prime takes hours; cancelled after three checkpoints,
	// NthPrime must have done at most a few thousand divisions each.
	ctx := &countdownContext{Context: context.Background(), left: 3}
	_, err := primetime.NthPrime(ctx, primetime.DefaultMaxN)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, -1, ctx.left, "NthPrime must stop at the first checkpoint that reports cancellation")
}

func TestPrimeTaskAnswersAndRefuses(t *testing.T) {
	ctx := context.Background()
	good := map[string]string{"1": "2", "10": "29", " 10\t": "29", "0100": "541"}
	for payload, want := range good {
		got, err := primetime.Prime.Run(ctx, []byte(payload))
		require.NoError(t, err, "payload %q", payload)
		assert.Equal(t, want, string(got), "payload %q", payload)
	}
	bad := map[string]string{
		"":                     "empty request",
		"abc":                  `got "abc"`,
		"-3":                   `got "-3"`,
		"0":                    `got "0"`,
		"+5":                   `got "+5"`,
		"1 2":                  `got "1 2"`,
		"1000001":              "over the limit of 1000000",
		"99999999999999999999": "over the limit",
	}
	for payload, want := range bad {
		_, err := primetime.Prime.Run(ctx, []byte(payload))
		assert.ErrorIs(t, err, primetime.ErrBadRequest, "payload %q", payload)
		assert.ErrorContains(t, err, want, "payload %q", payload)
	}
}

func TestNewPrimeTaskHasItsOwnLimit(t *testing.T) {
	task := primetime.NewPrimeTask("small-prime", 10)
	assert.Equal(t, "small-prime", task.Name())
	got, err := task.Run(context.Background(), []byte("10"))
	require.NoError(t, err)
	assert.Equal(t, "29", string(got))
	_, err = task.Run(context.Background(), []byte("11"))
	assert.ErrorContains(t, err, "over the limit of 10")
	assert.Panics(t, func() { primetime.NewPrimeTask("none", 0) })
}

func TestRegistry(t *testing.T) {
	got, ok := primetime.Lookup("prime")
	require.True(t, ok, "the prime task registers itself")
	assert.Equal(t, primetime.Prime, got)
	assert.Contains(t, primetime.Registered(), "prime")

	_, ok = primetime.Lookup("no-such-task")
	assert.False(t, ok)

	assert.PanicsWithValue(t, "primetime: Register called twice for task prime", func() {
		primetime.Register(primetime.NewPrimeTask("prime", 5))
	})
	assert.Panics(t, func() { primetime.Register(nil) })
	assert.Panics(t, func() { primetime.Register(primetime.TaskFunc("", nil)) })
}

func TestTaskFunc(t *testing.T) {
	boom := errors.New("boom")
	task := primetime.TaskFunc("echo", func(_ context.Context, p []byte) ([]byte, error) {
		if string(p) == "fail" {
			return nil, boom
		}
		return p, nil
	})
	assert.Equal(t, "echo", task.Name())
	got, err := task.Run(context.Background(), []byte("hi"))
	require.NoError(t, err)
	assert.Equal(t, "hi", string(got))
	_, err = task.Run(context.Background(), []byte("fail"))
	assert.ErrorIs(t, err, boom)
}
