package compare

// A Compare runs each server in a child process of its own, so that the
// load generator and the server share no scheduler: the parent starts the
// program again in the server role, the child serves on a loopback port and
// reports it, and it shuts down gracefully when the parent closes its
// stdin.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/reexec"
	"github.com/primetime-lab/primetime/loadtest"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
	"github.com/primetime-lab/primetime/strategy/natsexec"
)

// childConfig is what a child server serves.
type childConfig struct {
	// Strategy is the strategy's text form.
	Strategy string `json:"strategy"`
	// Task is the name of a registered task; empty means the prime task.
	Task string `json:"task,omitempty"`
	// MaxProcs, if positive, is the child's GOMAXPROCS.
	MaxProcs int `json:"maxprocs,omitempty"`
	// CPUs, if positive, is how many CPUs the child runs on.
	CPUs int `json:"cpus,omitempty"`
	// NoAsyncPreempt runs the child with GODEBUG=asyncpreemptoff=1.
	NoAsyncPreempt bool `json:"no_async_preempt,omitempty"`
	// GIL, if positive, runs the server in Python mode with this switch
	// interval.
	GIL time.Duration `json:"gil,omitempty"`
	// PythonCosts are Python mode's costs; zero means the defaults.
	PythonCosts server.PythonCosts `json:"python_costs,omitempty"`
	// Protocol is the server's wire protocol; empty means the line
	// protocol.
	Protocol loadtest.Protocol `json:"protocol,omitempty"`
	// NATS is how a nats executor reaches its NATS server.
	NATS natsexec.Conn `json:"nats"`
	// Trace, if not empty, is the file the server writes its timeline to
	// as it stops, recorded around the request Anchor, Before it and After
	// it.
	Trace  string        `json:"trace,omitempty"`
	Anchor string        `json:"anchor,omitempty"`
	Before time.Duration `json:"before,omitempty"`
	After  time.Duration `json:"after,omitempty"`
	// Live has the child write its timeline whenever its parent asks,
	// with a line "trace" on its stdin, and answer on its file 3 once it
	// has ("traced", or "error" and why); the recorder then waits for the
	// anchor's next arrival.
	Live bool `json:"live,omitempty"`
}

// envConfig carries the childConfig to the child.
const envConfig = "PRIMETIME_SERVER_CONFIG"

// magic starts the line in which the child reports its address.
const magic = "primetime-server/1"

// Timing of a child's life: startTimeout bounds a start when the
// experiment's context has no deadline of its own.
const (
	startTimeout    = 10 * time.Second
	shutdownTimeout = 10 * time.Second
)

// roleServer is the worker role of a child server.
const roleServer = "server"

func init() {
	reexec.RegisterRole(roleServer, serveChild)
}

// serveChild is the child's entry point, reached through
// primetime.MaybeWorker.
func serveChild() error {
	var cfg childConfig
	if err := json.Unmarshal([]byte(os.Getenv(envConfig)), &cfg); err != nil {
		return fmt.Errorf("server child: reading its configuration: %w", err)
	}
	// This process is a server now, not a worker: it may start worker
	// processes of its own, which cannot start any.
	for _, env := range []string{reexec.EnvMarker, reexec.EnvRole, envConfig} {
		os.Unsetenv(env)
	}
	if cfg.MaxProcs > 0 {
		runtime.GOMAXPROCS(cfg.MaxProcs)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := strategy.Parse(cfg.Strategy)
	if err != nil {
		return err
	}
	addr, stop, trace, err := serveInProcess(s, cfg, logger)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(os.Stdout, "%s %s\n", magic, addr); err != nil {
		stop()
		return err
	}
	// The parent closes stdin, or dies, when the experiment is over.
	if !cfg.Live || trace == nil {
		io.Copy(io.Discard, os.Stdin)
		return stop()
	}
	ack := os.NewFile(3, "ack")
	defer ack.Close()
	for lines := bufio.NewScanner(os.Stdin); lines.Scan(); {
		if lines.Text() != "trace" {
			continue
		}
		answer := "traced"
		if err := trace(); err != nil {
			answer = "error " + strings.ReplaceAll(err.Error(), "\n", " ")
		}
		fmt.Fprintln(ack, answer)
	}
	return stop()
}

// serveInProcess serves s with cfg's task, mode and protocol in this
// process on a new loopback port, logging to logger, and returns the
// address and a function that shuts the server down gracefully (closing it
// if that takes longer than shutdownTimeout) and returns what went wrong.
// cfg.Strategy and cfg.MaxProcs are not used: s is the strategy, and
// GOMAXPROCS is a process's setting.
func serveInProcess(s strategy.Strategy, cfg childConfig, logger *slog.Logger) (addr string, stop, trace func() error, err error) {
	task, err := cfg.task()
	if err != nil {
		return "", nil, nil, err
	}
	s = natsexec.With(s, cfg.NATS)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, err
	}
	srv := &server.Server{Strategy: s, Task: task, Logger: logger, GIL: cfg.GIL, PythonCosts: cfg.PythonCosts, Protocol: cfg.Protocol}
	if cfg.Trace != "" {
		srv.Recorder = server.NewRecorder(server.RecorderOptions{Anchor: cfg.Anchor, Before: cfg.Before, After: cfg.After})
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	stop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			srv.Close()
		}
		if err := <-served; !errors.Is(err, server.ErrServerClosed) {
			return err
		}
		if cfg.Trace != "" {
			return writeTrace(srv, cfg.Trace)
		}
		return nil
	}
	if cfg.Trace != "" {
		// The timeline so far, written whole under its name, and a new
		// window for the anchor's next arrival.
		trace = func() error {
			tmp := cfg.Trace + ".tmp"
			if err := writeTrace(srv, tmp); err != nil {
				return err
			}
			srv.Recorder.Rearm()
			return os.Rename(tmp, cfg.Trace)
		}
	}
	return l.Addr().String(), stop, trace, nil
}

// writeTrace writes srv's timeline to the file path.
func writeTrace(srv *server.Server, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(srv.WriteTrace(f), f.Close())
}

// task returns the registered task cfg names.
func (cfg childConfig) task() (primetime.Task, error) {
	name := cfg.Task
	if name == "" {
		name = primetime.Prime.Name()
	}
	task, ok := primetime.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("task %q is not registered: register it with primetime.Register in an init function", name)
	}
	return task, nil
}

// A child is a server running in a child process.
type child struct {
	*reexec.Server
	// ack reads the child's answers to "trace", for a Live child.
	ack     *bufio.Reader
	ackFile *os.File
}

// traceTimeout bounds a Live child's writing of its timeline.
const traceTimeout = 10 * time.Second

// trace asks a Live child to write its timeline to its Trace file, and
// waits until it has.
func (c *child) trace() error {
	if c.ack == nil {
		return errors.New("the server records no timeline")
	}
	if err := c.Send("trace"); err != nil {
		return err
	}
	c.ackFile.SetReadDeadline(time.Now().Add(traceTimeout))
	line, err := c.ack.ReadString('\n')
	if err != nil {
		return fmt.Errorf("the server did not write its timeline: %w", err)
	}
	if msg, failed := strings.CutPrefix(strings.TrimSpace(line), "error "); failed {
		return fmt.Errorf("the server could not write its timeline: %s", msg)
	}
	return nil
}

// startChild starts a child process that serves cfg on a loopback port
// and waits up to within until it listens. The child's log goes to stderr
// (os.Stderr if nil). The program must call primetime.MaybeWorker first
// thing in main.
// childEnv returns the environment a child server of cfg, written as js,
// is started with, besides this process's.
func childEnv(cfg childConfig, js string) []string {
	env := []string{envConfig + "=" + js}
	if cfg.NoAsyncPreempt {
		// Read by the runtime as the child starts.
		env = append(env, "GODEBUG="+strings.TrimPrefix(os.Getenv("GODEBUG")+",asyncpreemptoff=1", ","))
	}
	return env
}

func startChild(cfg childConfig, stderr io.Writer, within time.Duration) (*child, error) {
	if _, err := strategy.Parse(cfg.Strategy); err != nil {
		return nil, err
	}
	if _, err := cfg.task(); err != nil {
		return nil, err
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	cmd, err := reexec.Command("", nil, roleServer, stderr, childEnv(cfg, string(js))...)
	if err != nil {
		return nil, err
	}
	if cfg.CPUs > 0 {
		cpus, err := reexec.CPUsFor(cfg.CPUs)
		if err != nil {
			return nil, err
		}
		if cmd, err = reexec.Pin(cmd, cpus); err != nil {
			return nil, err
		}
	}
	var ackRead, ackWrite *os.File
	if cfg.Live {
		if ackRead, ackWrite, err = os.Pipe(); err != nil {
			return nil, err
		}
		cmd.ExtraFiles = []*os.File{ackWrite} // its file 3
	}
	srv, err := reexec.StartServer(cmd, magic, within)
	if ackWrite != nil {
		ackWrite.Close() // the child's copy is its own
		if err != nil {
			ackRead.Close()
		}
	}
	var se *reexec.StartError
	switch {
	case errors.As(err, &se) && errors.Is(se.Read, os.ErrDeadlineExceeded):
		return nil, fmt.Errorf("server process for %s did not report its address within %v%s: %s", cfg.Strategy, within.Round(time.Millisecond), se.Printed(), reexec.HookAdvice)
	case errors.As(err, &se) && se.Read != nil:
		return nil, fmt.Errorf("server process for %s ended before it listened (%v)%s: %s", cfg.Strategy, se.Exit, se.Printed(), se.Advice())
	case errors.As(err, &se):
		return nil, fmt.Errorf("server process for %s wrote %q instead of its address%s: %s", cfg.Strategy, se.Line, se.Printed(), reexec.HookAdvice)
	case err != nil:
		return nil, fmt.Errorf("starting a server process: %w", err)
	}
	c := &child{Server: srv}
	if ackRead != nil {
		c.ack, c.ackFile = bufio.NewReader(ackRead), ackRead
	}
	return c, nil
}

// stop shuts the server down gracefully, waits for the process, and kills
// it if it has not exited in time. It returns an error if the process did
// not exit cleanly.
func (c *child) stop() error {
	if c.ackFile != nil {
		defer c.ackFile.Close()
	}
	switch err := c.Stop(shutdownTimeout + 2*time.Second); {
	case errors.Is(err, reexec.ErrKilled):
		return errors.New("server process did not shut down in time; killed")
	case err != nil:
		return fmt.Errorf("server process: %w", err)
	}
	return nil
}
