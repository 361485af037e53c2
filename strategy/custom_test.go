package strategy_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy"
)

// serve serves s on a loopback port, in Python mode if gil is positive,
// until the test ends, and returns the server and its address.
func serve(t *testing.T, s strategy.Strategy, task primetime.Task, gil time.Duration) (*server.Server, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &server.Server{Strategy: s, Task: task, GIL: gil, Logger: slog.New(slog.DiscardHandler)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		assert.ErrorIs(t, <-served, server.ErrServerClosed)
	})
	return srv, l.Addr().String()
}

// ask sends line on c and returns the answer line.
func ask(c net.Conn, br *bufio.Reader, line string) (string, error) {
	if _, err := fmt.Fprintf(c, "%s\n", line); err != nil {
		return "", err
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	answer, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	return answer[:len(answer)-1], nil
}

func TestCustomSchedulersAndExecutorsServeWithTheBuiltIns(t *testing.T) {
	for _, text := range []string{"lifo:2", "lifo:2+goroutines:2", "lifo:2+procs:1", "perconn+spawn", "lifo:2+spawn", "loop+spawn", "pool:2+spawn"} {
		for _, gil := range []time.Duration{0, 200 * time.Microsecond} {
			t.Run(fmt.Sprintf("%s/gil=%v", text, gil), func(t *testing.T) {
				s, err := strategy.Parse(text)
				require.NoError(t, err)
				require.Equal(t, text, s.String())
				srv, addr := serve(t, s, nil, gil)
				var wg sync.WaitGroup
				for i := range 4 {
					wg.Go(func() {
						c, err := net.Dial("tcp", addr)
						if !assert.NoError(t, err) {
							return
						}
						defer c.Close()
						br := bufio.NewReader(c)
						for n := 1; n <= 20; n++ {
							p, _ := primetime.NthPrime(context.Background(), n+i)
							answer, err := ask(c, br, strconv.Itoa(n+i))
							if !assert.NoError(t, err) || !assert.Equal(t, strconv.Itoa(p), answer) {
								return
							}
						}
					})
				}
				wg.Wait()
				assert.Equal(t, uint64(80), srv.Stats().Answered)
			})
		}
	}
}

func TestCustomExecutorsGetTheirPanicsRecovered(t *testing.T) {
	boom := primetime.TaskFunc("boom", func(context.Context, []byte) ([]byte, error) { panic("boom") })
	_, addr := serve(t, strategy.Offload(strategy.PerConn(), spawn{}), boom, 0)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	answer, err := ask(c, bufio.NewReader(c), "1")
	require.NoError(t, err)
	assert.Equal(t, "ERR task boom panicked: boom", answer)
}
