package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/internal/natslocal"
	"github.com/primetime-lab/primetime/internal/proctest"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy/natsexec"
)

// natsStrategies send their tasks to NATS workers.
var natsStrategies = []string{"loop+nats:2", "perconn+nats:2"}

// startCluster starts a NATS server in this process and n workers of this
// test binary, stopped when the test ends.
func startCluster(t *testing.T, n int) *natslocal.Cluster {
	t.Helper()
	c, err := natslocal.Start(n, os.Stderr)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, c.Close()) })
	return c
}

// startNATS serves task with the strategy named by text, on the NATS
// server that conn names.
func startNATS(t *testing.T, text string, conn natsexec.Conn) *testServer {
	t.Helper()
	return start(t, &server.Server{Strategy: natsexec.With(parse(t, text), conn), Task: callback})
}

func TestNATSStrategiesRunTasksOnFreeWorkers(t *testing.T) {
	cluster := startCluster(t, 2)
	for _, text := range natsStrategies {
		t.Run(text, func(t *testing.T) {
			ts := startNATS(t, text, cluster.Conn())
			held := testkit.Dial(t, ts.addr)
			pid, hold := holdInWorker(t, held)
			assert.Contains(t, cluster.Pids, pid, "a worker of the cluster runs it")

			// One worker holds a task: every other request goes to the
			// other one, which is free, never behind the held one.
			c := testkit.Dial(t, ts.addr)
			for range 20 {
				other := askPid(t, c)
				require.NotEqual(t, pid, other)
				require.Contains(t, cluster.Pids, other)
			}
			hold.Close()
			assert.Equal(t, "released", held.Read())
		})
	}
}

func TestNATSTasksWaitForABusyWorkerWhenThereAreFewerThanN(t *testing.T) {
	cluster := startCluster(t, 1)
	ts := startNATS(t, "perconn+nats:2", cluster.Conn())
	held, waiting := testkit.Dial(t, ts.addr), testkit.Dial(t, ts.addr)
	pid, hold := holdInWorker(t, held)
	waiting.Send("pid") // finds the one worker busy, and is offered again
	hold.Close()
	assert.Equal(t, "released", held.Read())
	assert.Equal(t, strconv.Itoa(pid), waiting.Read(), "answered once the worker was free, not failed")
}

func TestNATSWorkerThatStopsFailsItsTaskAtOnce(t *testing.T) {
	cluster := startCluster(t, 1)
	ts := startNATS(t, "perconn+nats:1", cluster.Conn())
	c := testkit.Dial(t, ts.addr)
	pid, _ := holdInWorker(t, c)
	stopped := make(chan error, 1)
	go func() { stopped <- cluster.StopWorkers() }()
	assert.Equal(t, fmt.Sprintf("ERR worker %d on %s stopped during the task", pid, hostname(t)), c.Read())
	require.NoError(t, <-stopped)
}

func hostname(t *testing.T) string {
	h, err := os.Hostname()
	require.NoError(t, err)
	return h
}

func TestNATSRequestsFailAtOnceWhenNoWorkerIsLeft(t *testing.T) {
	cluster := startCluster(t, 1)
	ts := startNATS(t, "perconn+nats:1", cluster.Conn())
	c := testkit.Dial(t, ts.addr)
	assert.Equal(t, "x", c.Ask("x"))
	require.NoError(t, cluster.StopWorkers())
	assert.Regexp(t, `^ERR worker lost: no worker answers on nats://127.0.0.1:\d+ any more \(nats: no responders available for request\)$`, c.Ask("y"))
}

func TestNATSKilledWorkerFailsOnlyItsRequest(t *testing.T) {
	cluster := startCluster(t, 2)
	ts := startNATS(t, "perconn+nats:2", cluster.Conn())
	victim, survivor := testkit.Dial(t, ts.addr), testkit.Dial(t, ts.addr)
	pid, _ := holdInWorker(t, victim)
	otherPid, hold := holdInWorker(t, survivor)
	require.NotEqual(t, pid, otherPid)
	require.NoError(t, proctest.Kill(pid))
	got := victim.Read()
	assert.True(t, strings.HasPrefix(got, "ERR worker lost: no word on nats://"), got)

	// The other worker's task goes on, and so do both connections.
	hold.Close()
	assert.Equal(t, "released", survivor.Read())
	assert.Equal(t, "after", victim.Ask("after"))
	assert.Equal(t, "other", survivor.Ask("other"))
}

func TestNATSClientThatLeavesStopsItsTaskOnTheWorker(t *testing.T) {
	cluster := startCluster(t, 1)
	for _, text := range []string{"loop+nats:1", "perconn+nats:1"} {
		t.Run(text, func(t *testing.T) {
			ts := startNATS(t, text, cluster.Conn())
			gone := testkit.Dial(t, ts.addr)
			pid, hold := holdInWorker(t, gone)
			gone.Conn().Close()

			// The task sees its context end in the worker process and
			// closes its call back: EOF, not the test's deadline.
			_, err := io.Copy(io.Discard, hold)
			require.NoError(t, err)
			// The one worker is free again: it answers the next request.
			assert.Equal(t, pid, askPid(t, testkit.Dial(t, ts.addr)))
		})
	}
}

// startWorkers serves NATS workers of this test binary on the NATS server
// of conn until the test ends, and returns their pids.
func startWorkers(t *testing.T, conn natsexec.Conn, n int) []int {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	ready := make(chan []int, 1)
	go func() {
		served <- natsexec.Workers{Conn: conn, N: n, Ready: func(pids []int) { ready <- pids }}.Serve(ctx)
	}()
	t.Cleanup(func() {
		stop()
		assert.NoError(t, <-served)
	})
	select {
	case pids := <-ready:
		return pids
	case err := <-served:
		t.Fatalf("the workers did not start: %v", err)
		return nil
	}
}

func TestNATSRefusesAtStart(t *testing.T) {
	cluster := startCluster(t, 1)
	empty, err := natslocal.StartServer(0)
	require.NoError(t, err)
	t.Cleanup(empty.Close)
	notNATS, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { notNATS.Close() })
	go func() {
		for {
			c, err := notNATS.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
			c.Close()
		}
	}()
	unregistered := primetime.TaskFunc("unregistered", func(context.Context, []byte) ([]byte, error) { return nil, nil })
	for _, tc := range []struct {
		name string
		conn natsexec.Conn
		task primetime.Task
		want string
	}{
		{"unreachable", natsexec.Conn{URL: "nats://127.0.0.1:1"}, callback, `^natsexec: connecting to the NATS server at nats://127.0.0.1:1: nats: no servers available for connection$`},
		{"not NATS", natsexec.Conn{URL: "nats://" + notNATS.Addr().String()}, callback, `^natsexec: what answers at nats://127.0.0.1:\d+ does not speak NATS: nats: protocol exception, INFO not received$`},
		{"no worker", natsexec.Conn{URL: empty.URL()}, callback, `^natsexec: no worker answers on nats://127.0.0.1:\d+: start some there with "primetime worker -nats nats://127.0.0.1:\d+", or a program that serves natsexec.Workers$`},
		{"unregistered task", cluster.Conn(), unregistered, `^natsexec: task "unregistered" is not registered in the workers on nats://127.0.0.1:\d+: register it`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, text := range natsStrategies {
				l, err := net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
				srv := &server.Server{Strategy: natsexec.With(parse(t, text), tc.conn), Task: tc.task, Logger: discard}
				err = srv.Serve(l)
				require.Error(t, err)
				assert.Regexp(t, tc.want, err.Error())
			}
		})
	}
}
