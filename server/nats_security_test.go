package server_test

import (
	"log/slog"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/natslocal"
	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/server"
	"github.com/primetime-lab/primetime/strategy/natsexec"
)

// TestNATSIntruderWithoutTheRunsKeyIsRefused: the NATS server that the
// command starts admits only the holders of the run's nkey. A process
// without it can neither subscribe to the tasks nor publish answers: it
// cannot even connect.
func TestNATSIntruderWithoutTheRunsKeyIsRefused(t *testing.T) {
	cluster := startCluster(t, 1)
	_, err := nats.Connect(cluster.URL(), nats.Timeout(testkit.Bound))
	require.Error(t, err)
	assert.ErrorIs(t, err, nats.ErrAuthorization, "an intruder is refused at CONNECT: no SUB, no PUB")
	_, err = nats.Connect(cluster.URL(), nats.Token("guess"), nats.Timeout(testkit.Bound))
	assert.ErrorIs(t, err, nats.ErrAuthorization, "and so is a guessed token")

	// The run's own processes connect, and are served.
	ts := startNATS(t, "perconn+nats:1", cluster.Conn())
	assert.Contains(t, cluster.Pids, askPid(t, testkit.Dial(t, ts.addr)))
}

// TestNATSAnswersFromAnyoneButTheWorkerThatTookTheTaskAreRefused: a forger
// that holds the credential sees every reply on the executors' inboxes,
// and so the reply subject and a signed heartbeat of a held task. It
// replays the heartbeat, answers "666" with the heartbeat's MAC, and
// answers unsigned; the request still gets its worker's answer.
func TestNATSAnswersFromAnyoneButTheWorkerThatTookTheTaskAreRefused(t *testing.T) {
	cluster := startCluster(t, 1)
	conn := cluster.Conn()
	forger, err := nats.Connect(conn.URL, nats.Nkey(nkeyOf(t, conn.NKeySeed)))
	require.NoError(t, err)
	defer forger.Close()
	seen, err := forger.SubscribeSync("_INBOX.>")
	require.NoError(t, err)
	require.NoError(t, forger.Flush())

	ts := startNATS(t, "perconn+nats:1", conn)
	c := testkit.Dial(t, ts.addr)
	pid, hold := holdInWorker(t, c)
	// Heartbeats come every 200 ms, signed; the inboxes carry the
	// executor's handshake too.
	var beat *nats.Msg
	// A reply is its 32-byte MAC, then its kind ('B' for a beat), pid,
	// host's length, host and body, which a beat lacks.
	const mac = 32
	for beat == nil || len(beat.Data) < mac+6 || beat.Data[mac] != 'B' || len(beat.Data) != mac+6+int(beat.Data[mac+5]) {
		beat, err = seen.NextMsg(testkit.Bound)
		require.NoError(t, err)
	}
	reply := append([]byte{'A'}, beat.Data[mac+1:]...)
	reply = append(reply, "666"...)
	forged := append(slices.Clone(beat.Data[:mac]), reply...)
	// Twenty of each, so many that they would crowd the answer out of a
	// queue that held them.
	for _, m := range slices.Repeat([]*nats.Msg{
		{Subject: beat.Subject, Data: beat.Data},                                                // a replayed beat: harmless
		{Subject: beat.Subject, Data: forged},                                                   // the beat's MAC on other data
		{Subject: beat.Subject, Data: reply},                                                    // no MAC
		{Subject: beat.Subject, Data: append(make([]byte, mac), "A\x00\x00\x00\x01\x00666"...)}, // another worker, a MAC of zeros
	}, 20) {
		require.NoError(t, forger.PublishMsg(m))
	}
	require.NoError(t, forger.Flush())
	hold.Close() // the worker's task returns
	assert.Equal(t, "released", c.Read(), "the answer of worker %d, not the forger's", pid)
}

// nkeyOf returns what nats.Nkey takes for the seed.
func nkeyOf(t *testing.T, seed string) (string, nats.SignatureHandler) {
	t.Helper()
	kp, err := nkeys.FromSeed([]byte(seed))
	require.NoError(t, err)
	pub, err := kp.PublicKey()
	require.NoError(t, err)
	return pub, kp.Sign
}

// TestNATSServerLossFailsRequestsAtOnceUntilItIsBack: the NATS server goes
// away; a request then fails at once with an error that names the NATS
// server, never a worker, and the server's log says so; once the NATS
// server is back on its port, the same worker answers again and the log
// says that too.
func TestNATSServerLossFailsRequestsAtOnceUntilItIsBack(t *testing.T) {
	ns, err := natslocal.StartServer(0)
	require.NoError(t, err)
	port, url := ns.Port(), ns.URL()
	worker := startWorkers(t, natsexec.Conn{URL: url}, 1)[0]
	var log syncBuffer
	ts := start(t, &server.Server{Strategy: natsexec.With(parse(t, "perconn+nats:1"), natsexec.Conn{URL: url}),
		Task: callback, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	c := testkit.Dial(t, ts.addr)
	pid := askPid(t, c)
	require.Equal(t, worker, pid)

	ns.Close()
	// Once the executor knows (it logs it), requests fail at once.
	<-waitUntil(func() bool { return strings.Contains(log.String(), "the NATS server is unreachable") })
	unreachable := `^ERR NATS server unreachable: the connection to the NATS server at ` + regexp.QuoteMeta(url) + ` was lost`
	assert.Regexp(t, unreachable, c.Ask("pid"), "at once, naming the NATS server")
	assert.Regexp(t, unreachable, c.Ask("pid"))

	ns, err = natslocal.StartServer(port)
	require.NoError(t, err)
	t.Cleanup(ns.Close)
	for deadline := time.Now().Add(testkit.Bound); ; {
		got := c.Ask("pid")
		if got == strconv.Itoa(pid) {
			break
		}
		require.Regexp(t, unreachable, got)
		require.True(t, time.Now().Before(deadline), "not back within %v", testkit.Bound)
	}
	assert.Contains(t, log.String(), `msg="the NATS server is unreachable; requests fail until it is back" nats=`+url)
	assert.Contains(t, log.String(), `msg="the NATS server is back" nats=`+url)
}

// TestTheCommandsNATSServerIsStartedAgainWhenItDies: kill -9 of the NATS
// server process that natslocal started: it is started again on its port,
// and requests are answered again.
func TestTheCommandsNATSServerIsStartedAgainWhenItDies(t *testing.T) {
	cluster := startCluster(t, 1)
	ts := startNATS(t, "perconn+nats:1", cluster.Conn())
	c := testkit.Dial(t, ts.addr)
	pid := askPid(t, c)
	old := cluster.ServerPid()
	proc, err := os.FindProcess(old)
	require.NoError(t, err)
	require.NoError(t, proc.Kill())
	for deadline := time.Now().Add(testkit.Bound); ; {
		got := c.Ask("pid")
		if got == strconv.Itoa(pid) {
			break
		}
		require.True(t, strings.HasPrefix(got, "ERR NATS server unreachable: "), got)
		require.True(t, time.Now().Before(deadline), "not back within %v", testkit.Bound)
	}
	assert.NotEqual(t, old, cluster.ServerPid(), "a new NATS server process")
}

// TestNATSCredentialsOfAServerOfOnesOwn: against NATS servers that want a
// token, or a user and a password, the executor and the workers connect
// with the credentials given, and say in one line when they are refused.
func TestNATSCredentialsOfAServerOfOnesOwn(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  natsserver.Options
		right natsexec.Conn
		wrong natsexec.Conn
	}{
		{"token", natsserver.Options{Authorization: "s3cret"}, natsexec.Conn{Token: "s3cret"}, natsexec.Conn{Token: "guess"}},
		{"user", natsserver.Options{Username: "alice", Password: "pw"}, natsexec.Conn{User: "alice", Password: "pw"}, natsexec.Conn{User: "alice", Password: "no"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.Host, o.Port, o.NoLog, o.NoSigs = "127.0.0.1", natsserver.RANDOM_PORT, true, true
			ns, err := natsserver.NewServer(&o)
			require.NoError(t, err)
			ns.Start()
			t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
			require.True(t, ns.ReadyForConnections(testkit.Bound))
			right, wrong := tc.right, tc.wrong
			right.URL, wrong.URL = ns.ClientURL(), ns.ClientURL()
			right.Prefix = "pool-" + tc.name

			workers := startWorkers(t, right, 1)
			ts := startNATS(t, "perconn+nats:1", right)
			assert.Equal(t, workers[0], askPid(t, testkit.Dial(t, ts.addr)))

			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			err = (&server.Server{Strategy: natsexec.With(parse(t, "perconn+nats:1"), wrong), Logger: discard}).Serve(l)
			assert.Regexp(t, `^natsexec: the NATS server at nats://127.0.0.1:\d+ refuses these credentials: nats: Authorization Violation$`, err.Error())
			other := right
			other.Prefix = "another-pool"
			l, err = net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			err = (&server.Server{Strategy: natsexec.With(parse(t, "perconn+nats:1"), other), Logger: discard}).Serve(l)
			assert.Regexp(t, `^natsexec: no worker answers on nats://127.0.0.1:\d+ \(pool another-pool\): start some`, err.Error(), "another pool's subjects have no workers")
		})
	}
}
