package strategytest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/gil"
	"github.com/primetime-lab/primetime/internal/testkit"
)

// task is what the suite's servers run: a gate request ("gate ADDR ID")
// holds until the test releases it or its context ends; any other request
// is the prime task's. It is registered, so that worker processes run it
// too.
var task = primetime.TaskFunc("strategytest", func(ctx context.Context, payload []byte) ([]byte, error) {
	f := strings.Fields(string(payload))
	switch {
	case len(f) == 3 && f[0] == "gate":
		return holdAtGate(ctx, f[1], f[2])
	case len(f) == 3 && f[0] == "lock":
		// In the suite's process, in Python mode, a task holds the lock.
		if pid := strconv.Itoa(os.Getpid()); f[1] == pid && !gil.FromContext(ctx).Held() {
			return nil, errors.New("the task ran without the interpreter lock")
		}
		return primetime.Prime.Run(ctx, []byte(f[2]))
	}
	return primetime.Prime.Run(ctx, payload)
})

// lockCheck starts a request ("lock PID N") whose task, run by process
// PID, fails unless it holds Python mode's lock.
var lockCheck = "lock " + strconv.Itoa(os.Getpid())

func init() { primetime.Register(task) }

// holdAtGate tells the gate at addr that task id has started, and waits
// until the gate releases it, or its context ends, which it tells the gate
// too. The gate is a loopback connection, so that a task held in a worker
// process is held as one in this process is. It waits as a CPU-testkit.Bound task
// works, in slices, with a checkpoint between them: the checkpoint is
// where a server that runs the task on its event loop looks at the task's
// connection.
func holdAtGate(ctx context.Context, addr, id string) ([]byte, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := fmt.Fprintf(c, "started %s\n", id); err != nil {
		return nil, err
	}
	br := bufio.NewReader(c)
	for {
		if err := primetime.Checkpoint(ctx); err != nil {
			fmt.Fprintf(c, "cancelled %s\n", id)
			return nil, err
		}
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		_, err := br.ReadString('\n')
		var ne net.Error
		switch {
		case err == nil:
			return []byte("released " + id), nil
		case !errors.As(err, &ne) || !ne.Timeout():
			return nil, err
		}
	}
}

// A gate holds the suite's gate tasks: it learns when each starts, can
// release each, and learns when one sees its context end.
type gate struct {
	l      net.Listener
	wg     sync.WaitGroup
	events chan string // "started ID", "cancelled ID"

	mu    sync.Mutex
	conns []net.Conn          // every task's, to close at the end
	tasks map[string]net.Conn // by id, once started
}

func newGate(t *testing.T) *gate {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{l: l, events: make(chan string, 64), tasks: map[string]net.Conn{}}
	g.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			g.mu.Lock()
			g.conns = append(g.conns, c)
			g.mu.Unlock()
			g.wg.Go(func() { g.follow(c) })
		}
	})
	t.Cleanup(g.close)
	return g
}

// follow reads what one held task tells the gate.
func (g *gate) follow(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSpace(line)
		if id, ok := strings.CutPrefix(line, "started "); ok {
			g.mu.Lock()
			g.tasks[id] = c
			g.mu.Unlock()
		}
		g.events <- line
	}
}

// request returns the request that holds task id at the gate.
func (g *gate) request(id string) string { return "gate " + g.l.Addr().String() + " " + id }

// wait waits for the event want, and fails the test if another comes
// first or none comes in time.
func (g *gate) wait(t *testing.T, want string) {
	t.Helper()
	if !g.next(t, want) {
		t.Fatalf("gate: no %q within %v", want, testkit.Bound)
	}
}

// next waits for the event want, and reports false if none comes in
// time; it fails the test if another comes first.
func (g *gate) next(t *testing.T, want string) bool {
	t.Helper()
	select {
	case got := <-g.events:
		if got != want {
			t.Fatalf("gate: got %q, want %q", got, want)
		}
		return true
	case <-time.After(testkit.Bound):
		return false
	}
}

// release lets task id finish.
func (g *gate) release(t *testing.T, id string) {
	t.Helper()
	g.mu.Lock()
	c := g.tasks[id]
	g.mu.Unlock()
	if c == nil {
		t.Fatalf("gate: task %s has not started", id)
	}
	if _, err := fmt.Fprintln(c, "go"); err != nil {
		t.Fatalf("gate: releasing task %s: %v", id, err)
	}
}

func (g *gate) close() {
	g.l.Close()
	g.mu.Lock()
	for _, c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
}
