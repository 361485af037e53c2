package strategy_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

// spawn is an executor of one's own: it runs each task on a goroutine of
// its own, as many at once as there are requests. An executor that sends
// tasks to another machine, or to a queue, has the same shape: Start, then
// Submit for each task and Stop at the end.
type spawn struct{}

func (spawn) String() string { return "spawn" }

func (spawn) Start(env strategy.Env) (strategy.Runner, error) { return &spawnRunner{env: env}, nil }

type spawnRunner struct {
	env strategy.Env
	wg  sync.WaitGroup
}

func (r *spawnRunner) Submit(ctx context.Context, t primetime.Task, payload []byte, done func([]byte, error)) {
	// env.Run runs the task as an interpreter thread in Python mode.
	r.wg.Go(func() { done(r.env.Run(ctx, t, payload)) })
}

func (r *spawnRunner) Stop() { r.wg.Wait() }

// lifo is a scheduler of one's own: it serves at most n connections at
// once and, of those waiting, the newest first.
type lifo struct{ n int }

func (s lifo) String() string { return fmt.Sprintf("lifo:%d", s.n) }

func (s lifo) Schedule(l strategy.Listener, h strategy.Handler) error {
	var (
		mu      sync.Mutex
		free    = s.n
		waiting []strategy.Conn // the newest last
		wg      sync.WaitGroup
	)
	// serve serves c, then the newest waiting connection, until none
	// waits.
	serve := func(c strategy.Conn) {
		for c != nil {
			h.ServeConn(c)
			mu.Lock()
			c = nil
			if n := len(waiting); n > 0 {
				c, waiting = waiting[n-1], waiting[:n-1]
			} else {
				free++
			}
			mu.Unlock()
		}
	}
	defer wg.Wait()
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		mu.Lock()
		if free > 0 {
			free--
			wg.Go(func() { serve(c) })
		} else {
			waiting = append(waiting, c)
		}
		mu.Unlock()
	}
}

func init() {
	// Registered in init, so that Parse knows them in every process of
	// the program, child servers and worker processes included.
	strategy.RegisterScheduler("lifo:N", func(arg string) (strategy.Scheduler, error) {
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("lifo needs a positive size, as in lifo:4, not %q", arg)
		}
		return lifo{n: n}, nil
	})
	strategy.RegisterExecutor("spawn", func(string) (strategy.Executor, error) { return spawn{}, nil })
}

// A scheduler and an executor of one's own combine with each other and
// with the built-in ones, as values or by name once registered.
func ExampleNew() {
	mine := strategy.New(lifo{n: 2}, spawn{})
	fmt.Println(mine)
	fmt.Println(strategy.Offload(strategy.Pool(8), spawn{}))
	parsed, err := strategy.Parse("lifo:4+goroutines:2")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(parsed)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &server.Server{Strategy: mine}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Fprint(c, "10\n")
	answer, err := bufio.NewReader(c).ReadString('\n')
	fmt.Print(answer, err, "\n")
	c.Close()
	srv.Shutdown(context.Background())
	fmt.Println(<-served)
	// Output:
	// lifo:2+spawn
	// pool:8+spawn
	// lifo:4+goroutines:2
	// 29
	// <nil>
	// server: Server closed
}
