// Package testkit holds what the module's tests share: the bound of their
// waits, a client of the line protocol, and a gate task that holds its
// requests until the test releases them.
package testkit

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Bound is how long a test waits for something that must happen. It is a
// safety net against a hang, never a wait for something to happen by
// itself: no test passes because Bound elapsed.
const Bound = 10 * time.Second

// Receive returns the next value from c, or fails the test with msg if
// none comes within Bound.
func Receive[T any](t testing.TB, c <-chan T, msg string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(Bound):
		t.Fatal(msg)
		var zero T
		return zero
	}
}

// A Client is one connection of the line protocol to a test's server,
// closed when the test ends; each read waits at most Bound.
type Client struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

// Dial connects to the server at addr.
func Dial(t testing.TB, addr string) *Client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &Client{t: t, c: c, br: bufio.NewReader(c)}
}

// Conn returns the client's connection.
func (c *Client) Conn() net.Conn { return c.c }

// Send sends line and its newline.
func (c *Client) Send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, line+"\n"); err != nil {
		c.t.Fatalf("sending %q: %v", line, err)
	}
}

// Read returns the next answer line without its newline.
func (c *Client) Read() string {
	c.t.Helper()
	line, err := c.ReadErr()
	if err != nil {
		c.t.Fatalf("reading an answer: %v", err)
	}
	return line
}

// ReadErr returns the next answer line without its newline, or the error
// that ended the wait for it.
func (c *Client) ReadErr() (string, error) {
	c.c.SetReadDeadline(time.Now().Add(Bound))
	line, err := c.br.ReadString('\n')
	return strings.TrimSuffix(line, "\n"), err
}

// ReadAfter sends line and returns its answer, or the error.
func (c *Client) ReadAfter(line string) (string, error) {
	if _, err := io.WriteString(c.c, line+"\n"); err != nil {
		return "", err
	}
	return c.ReadErr()
}

// Ask sends line and returns its answer.
func (c *Client) Ask(line string) string {
	c.t.Helper()
	c.Send(line)
	return c.Read()
}

// A Gate is a task, called "gate", that holds every request whose payload
// starts with "hold" until the test releases it, and echoes every other
// payload at once. It logs when each task starts and ends, so that tests
// can check what ran in what order.
type Gate struct {
	started   chan string   // the payload of each held task, as it starts
	release   chan struct{} // a receive releases one held task
	cancelled chan string   // the payload of each held task whose context ended

	mu     sync.Mutex
	events []string
}

// NewGate returns a gate with none held.
func NewGate() *Gate {
	return &Gate{started: make(chan string, 100), release: make(chan struct{}), cancelled: make(chan string, 100)}
}

// Name returns "gate".
func (g *Gate) Name() string { return "gate" }

// Run holds a "hold" payload until it is released or ctx ends, and echoes
// any other.
func (g *Gate) Run(ctx context.Context, payload []byte) ([]byte, error) {
	p := string(payload)
	g.log("start " + p)
	defer g.log("end " + p)
	if !strings.HasPrefix(p, "hold") {
		return payload, nil
	}
	g.started <- p
	select {
	case g.release <- struct{}{}:
		return []byte("released " + p), nil
	case <-ctx.Done():
		g.cancelled <- p
		return nil, ctx.Err()
	}
}

func (g *Gate) log(event string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.events = append(g.events, event)
}

// Events returns what the gate's tasks did, in order: "start P", "end P".
func (g *Gate) Events() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.events...)
}

// WaitStarted waits for a held task to start and returns its payload.
func (g *Gate) WaitStarted(t testing.TB) string {
	t.Helper()
	return Receive(t, g.started, "no held task started")
}

// ReleaseOne lets one held task finish.
func (g *Gate) ReleaseOne(t testing.TB) {
	t.Helper()
	Receive(t, g.release, "no held task to release")
}

// WaitCancelled waits for a held task to see its context end and returns
// its payload.
func (g *Gate) WaitCancelled(t testing.TB) string {
	t.Helper()
	return Receive(t, g.cancelled, "no held task saw its context end")
}

// Reader returns the client's buffered reader of its connection, for a
// test that reads another protocol's answers.
func (c *Client) Reader() *bufio.Reader { return c.br }
