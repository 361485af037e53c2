package reexec

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// A Server is a server running in a child process: once it listens, it
// writes a line of its own prefix and its address on stdout; it stops when
// its stdin closes.
type Server struct {
	// Addr is the address it reported.
	Addr  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed once the process has been waited for
	err   error         // how it ended
}

// A StartError says why a server process did not report its address; the
// process has been killed and waited for.
type StartError struct {
	Line string // what it wrote instead, if anything
	Read error  // why its stdout gave no line: os.ErrDeadlineExceeded if none came in time
	Exit error  // how the process ended
	// Stderr is the end of what it wrote on stderr meanwhile, if anything.
	Stderr string
	// Killed says that a signal from outside ended the process before it
	// was ready: it did not lack the hook.
	Killed bool
}

// Advice says what the program must change for the server to start: the
// hook's advice, or nothing it could have done if the process was killed.
func (e *StartError) Advice() string {
	if e.Killed {
		return "it was killed from outside before it was ready"
	}
	return HookAdvice
}

func (e *StartError) Error() string {
	return fmt.Sprintf("server process wrote %q instead of its address: %v%s", e.Line, errors.Join(e.Read, e.Exit), e.Printed())
}

// Printed returns "; it printed: " and the end of the process's stderr, or
// "" if it printed nothing there.
func (e *StartError) Printed() string {
	if e.Stderr == "" {
		return ""
	}
	return fmt.Sprintf("; it printed: %q", e.Stderr)
}

// stderrTail is how much of a starting server's stderr a StartError keeps.
const stderrTail = 2 << 10

// A tailWriter keeps the last bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - stderrTail; over > 0 {
		t.buf = t.buf[:copy(t.buf, t.buf[over:])]
	}
	return len(p), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// StartServer starts cmd and waits up to timeout for the line of prefix,
// a space and its address. What the process writes on stderr goes to
// cmd.Stderr (os.Stderr if nil) and, until then, to the StartError too.
func StartServer(cmd *exec.Cmd, prefix string, timeout time.Duration) (*Server, error) {
	tail := &tailWriter{}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	cmd.Stderr = io.MultiWriter(cmd.Stderr, tail)
	if cmd.WaitDelay == 0 {
		// Its own children share its stderr: once it has exited, Wait
		// does not wait long for them to let go of it.
		cmd.WaitDelay = time.Second
	}
	stdin, stdout, err := StartPiped(cmd)
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	s := &Server{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(timeout)
	stdout.SetReadDeadline(deadline)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), prefix+" ")
	if err != nil || !ok {
		se := &StartError{Line: line, Read: err}
		if errors.Is(err, io.EOF) {
			// Its stdout closed: it is exiting, or was killed. Its own
			// status tells which, if it ends before the deadline.
			t := time.NewTimer(time.Until(deadline))
			select {
			case <-s.done:
				se.Killed = KilledBySignal(s.err)
			case <-t.C:
			}
			t.Stop()
		}
		s.Kill()
		se.Exit, se.Stderr = s.err, tail.String()
		return nil, se
	}
	s.Addr = strings.TrimSpace(addr)
	return s, nil
}

// Send writes a line to the server's stdin: a command, for a server that
// reads them.
func (s *Server) Send(line string) error {
	_, err := io.WriteString(s.stdin, line+"\n")
	return err
}

// Done returns a channel that is closed once the process has ended and
// been waited for; Err then says how it ended.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err returns how the process ended, once Done is closed.
func (s *Server) Err() error { return s.err }

// Pid returns the server process's id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// ErrKilled is the error of Stop for a process that did not end in time.
var ErrKilled = errors.New("did not stop in time; killed")

// Stop closes the server's stdin, which ends it, and waits for it; if it
// has not ended within timeout, it kills it and returns ErrKilled.
// Otherwise it returns how the process ended.
func (s *Server) Stop(timeout time.Duration) error {
	s.stdin.Close()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-s.done:
		return s.err
	case <-t.C:
		s.Kill()
		return ErrKilled
	}
}

// Kill kills the server process and waits for it.
func (s *Server) Kill() {
	s.cmd.Process.Kill()
	s.stdin.Close()
	<-s.done
}
