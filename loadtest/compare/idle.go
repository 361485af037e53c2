package compare

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/primetime-lab/primetime/loadtest"
)

// idleAnswerWait is how long the idle probe waits for an answer that has
// not come, before it takes the server for one that queues connections (a
// pool whose places are taken) and stops waiting.
const idleAnswerWait = time.Second

// idleCost opens n connections to the server at addr, process pid, each of
// which asks the small request once, and returns the growth of the
// server's resident memory per connection. The connections are closed
// before it returns.
func idleCost(ctx context.Context, sc loadtest.Scenario, pid, n int) (float64, error) {
	before, err := residentBytes(pid)
	if err != nil {
		return 0, err
	}
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	codec := sc.Protocol.ClientCodec() // checked by WithDefaults
	request := codec.AppendRequest(nil, sc.Small)
	var d net.Dialer
	for len(conns) < n {
		c, err := d.DialContext(ctx, "tcp", sc.Addr)
		if err != nil {
			return 0, fmt.Errorf("opening idle connection %d of %d: %w%s", len(conns)+1, n, err, fileLimitAdvice(err))
		}
		conns = append(conns, c)
		if _, err := c.Write(request); err != nil {
			return 0, fmt.Errorf("asking on idle connection %d: %w", len(conns), err)
		}
	}
	// Read the answers, so that every connection the server serves has
	// been set up; a server that queues connections leaves the rest
	// unanswered.
	buf := make([]byte, 4096)
answers:
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(idleAnswerWait))
		for got := 0; ; {
			k, err := c.Read(buf[got:])
			got += k
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				break answers
			case err != nil:
				return 0, fmt.Errorf("reading the answer on idle connection %d: %w", i+1, err)
			}
			n, a, err := codec.DecodeAnswer(buf[:got])
			if err != nil || a.Refused {
				return 0, fmt.Errorf("idle connection %d: answer %q: %v", i+1, buf[:got], err)
			}
			if n > 0 {
				break
			}
			if got == len(buf) {
				return 0, fmt.Errorf("idle connection %d: answer longer than %d bytes", i+1, len(buf))
			}
		}
	}
	after, err := residentBytes(pid)
	if err != nil {
		return 0, err
	}
	return float64(after-before) / float64(n), nil
}

// fileLimitAdvice says what to do about a full descriptor table.
func fileLimitAdvice(err error) string {
	if strings.Contains(err.Error(), "too many open files") {
		return " (raise the limit of open files, ulimit -n, or ask for fewer idle connections)"
	}
	return ""
}

// residentBytes reads a process's resident set size from /proc.
func residentBytes(pid int) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("measuring a server's memory needs /proc: %w", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("reading VmRSS of process %d: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}
