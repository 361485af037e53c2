package reactor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/policy"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/internal/wire"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var errStopped = errors.New("listener stopped")

// fakeListener hands the loop the connections sent on conns, and fails
// once conns is closed.
type fakeListener struct {
	conns  chan Conn
	ctx    context.Context
	cancel context.CancelFunc // the server's Close
	idle   time.Duration
	closed chan *fakeConn // each connection, once the loop has closed it
}

func (l *fakeListener) AcceptConn() (Conn, error) {
	c, ok := <-l.conns
	if !ok {
		return nil, errStopped
	}
	return c, nil
}
func (l *fakeListener) Closed() context.Context  { return l.ctx }
func (l *fakeListener) Policy() policy.Policy    { return policy.Policy{IdleTimeout: l.idle} }
func (l *fakeListener) Logger() *slog.Logger     { return slog.New(slog.DiscardHandler) }
func (l *fakeListener) Control(func(int)) error  { return errors.ErrUnsupported }
func (l *fakeListener) Waiting() <-chan struct{} { return l.ctx.Done() }

// fakeConn is the server side of a socket pair, answering with echo.
type fakeConn struct {
	l     *fakeListener
	fd    int
	codec wire.ServerCodec
}

var echo = primetime.TaskFunc("echo", func(_ context.Context, p []byte) ([]byte, error) { return p, nil })

func (c *fakeConn) Fd() int                 { return c.fd }
func (c *fakeConn) Codec() wire.ServerCodec { return c.codec }
func (c *fakeConn) Start([]byte) (context.Context, primetime.Task) {
	return context.Background(), echo
}
func (c *fakeConn) AppendAnswer(dst, answer []byte, err error) []byte {
	out, _ := c.codec.AppendAnswer(dst, answer)
	return out
}
func (c *fakeConn) AppendRefusal(dst []byte, d wire.Decoded) []byte {
	return c.codec.AppendError(dst, d.Status, d.Msg)
}
func (c *fakeConn) Written() {}
func (c *fakeConn) Lost()    {}
func (c *fakeConn) Gone()    {}
func (c *fakeConn) Closed()  { c.l.closed <- c }

// submitFunc is how a loop hands a task to its executor.
type submitFunc = func(ctx context.Context, t primetime.Task, p []byte, done func([]byte, error))

// loopOf serves a loop with x until the test ends, and returns its
// listener.
func loopOf(t *testing.T, x submitFunc, idle time.Duration) *fakeListener {
	return pythonLoopOf(t, x, idle, nil)
}

// pythonLoopOf is loopOf with th as the loop's interpreter thread.
func pythonLoopOf(t *testing.T, x submitFunc, idle time.Duration, th *gil.Thread) *fakeListener {
	ctx, cancel := context.WithCancel(context.Background())
	l := &fakeListener{conns: make(chan Conn), ctx: ctx, cancel: cancel, idle: idle, closed: make(chan *fakeConn, 16)}
	served := make(chan error, 1)
	go func() { served <- Serve(l, Config{Submit: x, Threads: []*gil.Thread{th}}) }()
	t.Cleanup(func() {
		cancel()
		close(l.conns)
		select {
		case err := <-served:
			assert.ErrorIs(t, err, errStopped)
		case <-time.After(testkit.Bound):
			t.Error("the loop did not return")
		}
	})
	return l
}

// connect hands the loop one end of a socket pair, with first already
// sent on it, and returns the other, as a client's connection.
func connect(t *testing.T, l *fakeListener, first string) (net.Conn, *bufio.Reader) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	require.NoError(t, unix.SetNonblock(fds[0], true))
	if first != "" {
		_, err := unix.Write(fds[1], []byte(first))
		require.NoError(t, err)
	}
	l.conns <- &fakeConn{l: l, fd: fds[0], codec: wire.NewLineCodec(64)}
	f := os.NewFile(uintptr(fds[1]), "client")
	c, err := net.FileConn(f)
	f.Close()
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testkit.Bound))
	return c, bufio.NewReader(c)
}

// inline runs each task on the loop, before Submit returns, as the inline
// executor does.
func inline(ctx context.Context, t primetime.Task, p []byte, done func([]byte, error)) {
	done(t.Run(ctx, p))
}

func TestTheLoopAnswersPipelinedRequestsInOrder(t *testing.T) {
	submitted := sync.WaitGroup{}
	offload := func(ctx context.Context, t primetime.Task, p []byte, done func([]byte, error)) {
		submitted.Go(func() { done(t.Run(ctx, p)) })
	}
	for name, x := range map[string]submitFunc{"inline": inline, "offloaded": offload} {
		t.Run(name, func(t *testing.T) {
			l := loopOf(t, x, 0)
			c, br := connect(t, l, "a\n")
			_, err := io.WriteString(c, "b\nc\n")
			require.NoError(t, err)
			for _, want := range []string{"a\n", "b\n", "c\n"} {
				got, err := br.ReadString('\n')
				require.NoError(t, err)
				assert.Equal(t, want, got)
			}
		})
	}
	submitted.Wait()
}

func TestTheLoopClosesAConnectionIdleTooLong(t *testing.T) {
	l := loopOf(t, inline, 20*time.Millisecond)
	// The request is there before the loop has the connection, so only
	// the wait for the next one can run out.
	_, br := connect(t, l, "x\n")
	got, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "x\n", got)
	_, err = br.ReadString('\n')
	assert.ErrorIs(t, err, io.EOF, "the idle deadline closes it")
	select {
	case <-l.closed:
	case <-time.After(testkit.Bound):
		t.Fatal("the loop did not report the connection closed")
	}
}

func TestTheLoopClosesEverythingWhenTheServerCloses(t *testing.T) {
	l := loopOf(t, inline, 0)
	_, br := connect(t, l, "")
	l.cancel()
	_, err := br.ReadString('\n')
	assert.ErrorIs(t, err, io.EOF, "closed at once")
}

// TestAPostAfterTheLoopEndedWritesNothing checks that a task answering
// after the loop has released its descriptors does not write its wake-up
// to whatever now has the wake-up descriptor's number.
func TestAPostAfterTheLoopEndedWritesNothing(t *testing.T) {
	lp, err := newLoop(&fakeListener{ctx: context.Background()}, Config{Submit: inline}, nil, nil)
	require.NoError(t, err)
	wakefd := lp.waker.fd
	lp.release()

	// A pipe takes the released number, as a new socket would.
	var p [2]int
	require.NoError(t, unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK))
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	require.NotEqual(t, wakefd, p[0], "the read end is opened first, at a lower number")
	if p[1] != wakefd {
		require.NoError(t, unix.Dup3(p[1], wakefd, unix.O_CLOEXEC))
		defer unix.Close(wakefd)
	}

	lp.waker.post(event{kind: answered})
	n, err := unix.Read(p[0], make([]byte, 8))
	assert.ErrorIs(t, err, unix.EAGAIN, "read %d bytes", n)
}

func TestInPythonModeTheLoopReleasesTheLockAroundItsSocketCalls(t *testing.T) {
	th := gil.New(gil.DefaultInterval).NewThread(gil.Loop)
	drops := make(chan uint64, 8)
	x := func(ctx context.Context, task primetime.Task, p []byte, done func([]byte, error)) {
		assert.True(t, th.Held(), "a task runs on the loop with the lock held")
		assert.Same(t, th, gil.FromContext(ctx), "under the loop's thread")
		drops <- th.Drops() // on the loop's goroutine, as th requires
		done(task.Run(ctx, p))
	}
	l := pythonLoopOf(t, x, 0, th)
	c, br := connect(t, l, "a\n")
	for _, next := range []string{"b", "c", "d", ""} {
		_, err := br.ReadString('\n')
		require.NoError(t, err)
		if next != "" {
			_, err = io.WriteString(c, next+"\n")
			require.NoError(t, err)
		}
	}
	last := <-drops
	for range 3 {
		d := <-drops
		// Between two requests of a client that waits for each answer:
		// the answer's write, an epoll_wait, the next request's read,
		// and asyncio's turn of the loop for it.
		assert.GreaterOrEqual(t, d-last, uint64(4))
		last = d
	}
}

// TestOneConnectionsPipelinedRequestsCannotTakeATurnFromTheOthers has one
// connection pipeline 100 requests, holds the first of them until another
// connection, open before, has sent its one request, and checks the order
// the loop ran them in: the other's comes right after the first
// connection's budget for the turn, not after all of its requests.
func TestOneConnectionsPipelinedRequestsCannotTakeATurnFromTheOthers(t *testing.T) {
	held, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var order []string
	x := func(ctx context.Context, task primetime.Task, p []byte, done func([]byte, error)) {
		if string(p) == "a0" {
			close(held)
			<-release
		}
		mu.Lock()
		order = append(order, string(p))
		mu.Unlock()
		done(p, nil)
	}
	l := loopOf(t, x, 0)
	other, obr := connect(t, l, "")
	var greedy strings.Builder
	for i := range 100 {
		fmt.Fprintf(&greedy, "a%d\n", i)
	}
	_, gbr := connect(t, l, greedy.String())
	<-held
	_, err := io.WriteString(other, "b\n")
	require.NoError(t, err)
	close(release)
	got, err := obr.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "b\n", got)
	for range 100 {
		_, err := gbr.ReadString('\n')
		require.NoError(t, err)
	}
	mu.Lock()
	defer mu.Unlock()
	at := slices.Index(order, "b")
	assert.Equal(t, turnBudget, at, "b ran right after the first connection's budget of %d: %v", turnBudget, order[:at+1])
}
