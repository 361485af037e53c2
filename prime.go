package primetime

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/primetime-lab/primetime/internal/gil"
)

// DefaultMaxN is the largest n that [Prime] accepts. The 1,000,000th prime
// takes hours to find with [NthPrime]; a larger n is refused rather than
// left to run.
const DefaultMaxN = 1_000_000

// checkEvery is how many trial divisions NthPrime does between two calls to
// [Checkpoint]: often enough that a cancelled request stops within
// microseconds, rarely enough that the check costs nothing measurable.
const checkEvery = 4096

// NthPrime returns the nth prime number: NthPrime(ctx, 1) is 2 and
// NthPrime(ctx, 10) is 29.
//
// It is slow on purpose. It tests every candidate by dividing it by every
// smaller number from 2, so its cost grows roughly with the square of the
// answer: n = 10,000 (the answer is 104,729) takes hundreds of millions of
// divisions. That makes it a CPU-bound request whose size the client chooses,
// which is what the experiment needs.
//
// NthPrime calls [Checkpoint] every few thousand divisions and returns 0 and
// the context's error promptly once ctx is done. It returns an error for
// n < 1.
func NthPrime(ctx context.Context, n int) (int, error) {
	if n < 1 {
		return 0, fmt.Errorf("primetime: NthPrime of %d: n must be at least 1", n)
	}
	if err := Checkpoint(ctx); err != nil {
		return 0, err
	}
	budget := checkEvery
	found := 0
	for candidate := 2; ; candidate++ {
		prime := true
		for d := 2; d < candidate; d++ {
			budget--
			if budget == 0 {
				budget = checkEvery
				if err := Checkpoint(ctx); err != nil {
					return 0, err
				}
			}
			if candidate%d == 0 {
				prime = false
				break
			}
		}
		if prime {
			found++
			if found == n {
				return candidate, nil
			}
		}
	}
}

// Checkpoint reports whether a task should go on: it returns nil while ctx is
// live and ctx's error once it is done. CPU-bound tasks call it every so
// often (NthPrime does, every few thousand divisions) so that a request whose
// client went away, or whose server is closing, stops using the CPU.
//
// A checkpoint is also where a server in Python mode (server.Server's GIL
// option) may take the interpreter lock back from a task, as CPython's
// evaluation loop does: tasks that call it behave like Python code under the
// emulated lock. In a program that has never been in Python mode it costs
// an atomic load and ctx.Err.
func Checkpoint(ctx context.Context) error {
	gil.Checkpoint(ctx)
	return ctx.Err()
}

// ErrBadRequest is wrapped by the errors a task returns for a payload it
// cannot accept, so that servers can tell the client's mistakes from
// failures of their own.
var ErrBadRequest = errors.New("bad request")

// Prime is the prime task: its payload is a decimal n (surrounding spaces
// allowed) and its answer is the nth prime in decimal, as computed by
// [NthPrime]. It refuses n < 1, anything that is not a decimal integer, and
// n over [DefaultMaxN] with an error that wraps [ErrBadRequest]. It is
// registered under the name "prime".
var Prime Task = NewPrimeTask("prime", DefaultMaxN)

func init() {
	Register(Prime)
}

// NewPrimeTask returns a prime task, like [Prime], with its own name and
// largest accepted n. A program that runs it in worker processes registers
// it with [Register] under that name. NewPrimeTask panics if maxN < 1.
func NewPrimeTask(name string, maxN int) Task {
	if maxN < 1 {
		panic("primetime: NewPrimeTask with maxN < 1")
	}
	return primeTask{name: name, maxN: maxN}
}

type primeTask struct {
	name string
	maxN int
}

func (p primeTask) Name() string { return p.name }

func (p primeTask) Run(ctx context.Context, payload []byte) ([]byte, error) {
	n, err := p.parse(payload)
	if err != nil {
		return nil, err
	}
	prime, err := NthPrime(ctx, n)
	if err != nil {
		return nil, err
	}
	return strconv.AppendInt(nil, int64(prime), 10), nil
}

// parse reads a positive decimal n without allocating.
func (p primeTask) parse(payload []byte) (int, error) {
	digits := trimSpace(payload)
	if len(digits) == 0 {
		return 0, fmt.Errorf("%w: want a positive integer n, got an empty request", ErrBadRequest)
	}
	n := 0
	for _, b := range digits {
		if b < '0' || b > '9' {
			return 0, fmt.Errorf("%w: want a positive integer n, got %.40q", ErrBadRequest, digits)
		}
		n = n*10 + int(b-'0')
		if n > p.maxN {
			return 0, fmt.Errorf("%w: n=%.40s is over the limit of %d", ErrBadRequest, digits, p.maxN)
		}
	}
	if n < 1 {
		return 0, fmt.Errorf("%w: want a positive integer n, got %.40q", ErrBadRequest, digits)
	}
	return n, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
