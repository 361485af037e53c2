package loadtest

import (
	"bufio"
	"bytes"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime"
)

func TestMain(m *testing.M) {
	if os.Getenv(envSpin) != "" {
		spin() // a CPU-bound child of TestTheServersCPUIsMeasuredExactly
	}
	if os.Getenv(envListen) != "" {
		listenAndAnswer() // a server in a process of its own
	}
	// The servers' worker processes are this test binary.
	primetime.MaybeWorker()
	goleak.VerifyTestMain(m)
}

// discardLogger is the log of servers whose log no test reads.
var discardLogger = slog.New(slog.DiscardHandler)

// A fakeServer is a line server whose behaviour a test controls.
type fakeServer struct {
	t    *testing.T
	l    net.Listener
	mode string // "answer", "wrong", "stall" or "close"
	// later keeps the mode for the connections after the first, and
	// answers the first as "answer" does: the run's probe, before its
	// clients, is answered right.
	later bool

	longStarted chan struct{} // closed when the long request ("long") arrives
	release     chan struct{} // closing it lets the long request be answered

	mu    sync.Mutex
	conns map[net.Conn]bool
	// longConns counts the long answers written on each connection.
	longConns map[net.Conn]int
	wg        sync.WaitGroup
}

// startFake serves on a loopback port until the test ends. In mode
// "answer" it answers every small request with "2" at once (over http too)
// and holds the request "long" until release is closed; in "wrong" it
// answers every request with "3"; in "garbage" every line with a line no
// protocol's client decodes as an HTTP response; in "stall" it reads
// requests and never answers; in "close" it closes every connection as it
// accepts it.
func startFake(t *testing.T, mode string) *fakeServer { return startFakeFor(t, mode, false) }

// startFakeAfterProbe is startFake whose first connection, the run's
// probe, is answered right, and the later ones in mode.
func startFakeAfterProbe(t *testing.T, mode string) *fakeServer { return startFakeFor(t, mode, true) }

func startFakeFor(t *testing.T, mode string, later bool) *fakeServer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &fakeServer{t: t, l: l, mode: mode, later: later, longStarted: make(chan struct{}), release: make(chan struct{}), conns: map[net.Conn]bool{}, longConns: map[net.Conn]int{}}
	s.wg.Go(s.accept)
	t.Cleanup(s.stop)
	return s
}

func (s *fakeServer) addr() string { return s.l.Addr().String() }

func (s *fakeServer) accept() {
	var once sync.Once
	for first := true; ; first = false {
		c, err := s.l.Accept()
		if err != nil {
			return
		}
		mode := s.mode
		if first && s.later {
			mode = "answer"
		}
		if mode == "close" {
			c.Close()
			continue
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Go(func() {
			defer c.Close()
			br := bufio.NewReader(c)
			for {
				line, err := br.ReadSlice('\n')
				if err != nil {
					return
				}
				switch {
				case mode == "stall":
					continue
				case mode == "wrong":
					_, err = c.Write(three)
				case mode == "garbage":
					_, err = c.Write(garbage)
				case bytes.HasPrefix(line, []byte("GET ")):
					// An HTTP request: its head, then the answer.
					for len(bytes.TrimSpace(line)) > 0 && err == nil {
						line, err = br.ReadSlice('\n')
					}
					if err == nil {
						_, err = c.Write(httpTwo)
					}
				case string(line) == "long\n":
					once.Do(func() { close(s.longStarted) })
					<-s.release
					_, err = c.Write(longDone)
					s.mu.Lock()
					s.longConns[c]++
					s.mu.Unlock()
				case string(line) == "bad\n" && !(first && s.later):
					_, err = c.Write(errBad)
				default:
					_, err = c.Write(two)
				}
				if err != nil {
					return
				}
			}
		})
	}
}

func (s *fakeServer) stop() {
	s.l.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
	s.wg.Wait()
}

// The fake server's answers, allocated once so that serving allocates
// nothing per request.
var (
	two      = []byte("2\n")
	httpTwo  = []byte("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2")
	garbage  = []byte("garbage\n")
	three    = []byte("3\n")
	longDone = []byte("long-done\n")
	errBad   = []byte("ERR bad request\n")
)
