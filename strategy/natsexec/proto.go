package natsexec

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
)

// The NATS executor's protocol, between an executor and the workers of
// [Workers], lives here and only here. Its subjects start with the
// pool's prefix (Conn.Prefix): PREFIX.tasks, PREFIX.cancel and
// PREFIX.workers, and its queue group is PREFIX-workers.
//
// A task is a message on PREFIX.tasks, which the queue group spreads over
// its members, with a reply subject of the executor's and a key of its
// own, fresh and random, in the header natsKeyHeader; its body is a run
// as worker processes read it (worker.RunMessage). A worker is a member
// only while it has no task: it joins for one message at a time (a
// subscription that the NATS server ends after one delivery) and joins
// again before it answers, so a task goes only to a free worker. What it
// sends back to the reply subject is a natsReply, with its HMAC-SHA256
// under the task's key in the header natsMACHeader: heartbeats while the
// task runs, then its answer or its failure. The executor takes a reply
// only with the right MAC, which only who received the task can make
// (not who merely sees the replies, or learns the reply subject), and
// only from the worker that first replied. Cancelling a run is a message
// on PREFIX.cancel, which every worker hears, whose body is the run's
// reply subject. A request on PREFIX.workers, where every worker is a
// member of the group at all times, gets one worker's handshake: whether
// any worker is there, and what it knows.
const (
	natsKeyHeader = "Primetime-Key"
	natsMACHeader = "Primetime-Mac"
)

// newTaskKey returns a fresh random key for a task, as its header
// carries it.
func newTaskKey() string {
	var k [16]byte
	rand.Read(k[:]) // never fails (crypto/rand)
	return hex.EncodeToString(k[:])
}

// replyMAC returns the MAC of a reply's data under a task's key, as its
// header carries it.
func replyMAC(key string, data []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(data)
	return hex.EncodeToString(m.Sum(nil))
}

// signedBy reports whether m carries the right MAC under key.
func signedBy(m *nats.Msg, key string) bool {
	got, err := hex.DecodeString(m.Header.Get(natsMACHeader))
	if err != nil {
		return false
	}
	want, _ := hex.DecodeString(replyMAC(key, m.Data))
	return hmac.Equal(got, want)
}

// Timing of NATS workers.
const (
	// natsBeat is how often a worker says that a task still runs.
	natsBeat = 200 * time.Millisecond
	// natsLiveness is how long an executor waits for word from a worker (a
	// heartbeat or the answer) before it fails the request: the worker
	// died, or the message was lost.
	natsLiveness = 2 * time.Second
	// natsConnectTimeout bounds a connection to the NATS server, and the
	// executor's wait for a worker's handshake at start.
	natsConnectTimeout = 2 * time.Second
)

// The kinds of a natsReply.
const (
	replyAnswer byte = 'A'
	replyFail   byte = 'F' // a failure's body, as worker.ParseFailure reads it
	replyBeat   byte = 'B'
)

// A natsReply is a worker's message about a run: its kind, the worker (its
// pid, and its host, for errors), and the body. On the wire: the kind byte,
// a 4-byte pid, a 1-byte host length, the host, the body.
type natsReply struct {
	kind byte
	pid  int
	host string
	body []byte
}

func (r natsReply) encode() []byte {
	host := r.host[:min(len(r.host), 255)]
	b := make([]byte, 6, 6+len(host)+len(r.body))
	b[0] = r.kind
	binary.BigEndian.PutUint32(b[1:], uint32(r.pid))
	b[5] = byte(len(host))
	b = append(b, host...)
	return append(b, r.body...)
}

var errShortReply = errors.New("a reply shorter than its header")

func decodeReply(b []byte) (natsReply, error) {
	if len(b) < 6 || len(b) < 6+int(b[5]) {
		return natsReply{}, errShortReply
	}
	n := 6 + int(b[5])
	return natsReply{kind: b[0], pid: int(binary.BigEndian.Uint32(b[1:])), host: string(b[6:n]), body: b[n:]}, nil
}
