package primetime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// SHA256 is the task "sha256": its payload is a decimal n, from 1 to
// MaxSHA256N, and its answer the hexadecimal [ChainedSHA256] of n. It is
// CPU-bound as [Prime] is, but it releases Python mode's interpreter lock
// while it runs ([ReleasingGIL]), as CPython's hashlib does for a buffer over
// 2 KiB: in Python mode, threads keep their small requests beside it. The
// command's -task sha256 serves and sends it.
var SHA256 = ReleasingGIL(TaskFunc("sha256", runSHA256))

// MaxSHA256N is the largest n that [SHA256] accepts: about a minute of CPU.
const MaxSHA256N = 1_000_000

// sha256Buffer is how much each round of ChainedSHA256 hashes.
const sha256Buffer = 64 << 10

func init() { Register(SHA256) }

// ChainedSHA256 returns the SHA-256 of a 64 KiB buffer, chained n times:
// the buffer holds bytes 0, 1, ..., 250, 0, 1, ... and each round writes
// the last round's digest (32 zero bytes for the first) over its first 32
// bytes and hashes it. It calls [Checkpoint] between rounds.
func ChainedSHA256(ctx context.Context, n int) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	if n < 1 {
		return sum, fmt.Errorf("primetime: ChainedSHA256 of %d: n must be at least 1", n)
	}
	buf := make([]byte, sha256Buffer)
	for i := range buf {
		buf[i] = byte(i % 251)
	}
	for range n {
		if err := Checkpoint(ctx); err != nil {
			return [sha256.Size]byte{}, err
		}
		copy(buf, sum[:])
		sum = sha256.Sum256(buf)
	}
	return sum, nil
}

func runSHA256(ctx context.Context, payload []byte) ([]byte, error) {
	n, err := strconv.Atoi(strings.TrimSpace(string(payload)))
	if err != nil || n < 1 || n > MaxSHA256N {
		return nil, fmt.Errorf("%w: want a whole number n from 1 to %d, got %q", ErrBadRequest, MaxSHA256N, payload)
	}
	sum, err := ChainedSHA256(ctx, n)
	if err != nil {
		return nil, err
	}
	return hex.AppendEncode(nil, sum[:]), nil
}
