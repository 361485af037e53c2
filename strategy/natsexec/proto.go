package natsexec

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"
)

// The NATS executor's protocol, between an executor and the workers of
// [Workers], lives here and only here. Its subjects start with the
// pool's prefix (Conn.Prefix): PREFIX.tasks, PREFIX.cancel and
// PREFIX.workers, and its queue group is PREFIX-workers.
//
// A task is a message on PREFIX.tasks, which the queue group spreads over
// its members, with a reply subject of the executor's; its body is a key
// of its own, fresh and random (keySize bytes), then a run as worker
// processes read it (worker.RunMessage). A worker is a member
// only while it has no task: it joins for one message at a time (a
// subscription that the NATS server ends after one delivery) and joins
// again before it answers, so a task goes only to a free worker. What it
// sends back to the reply subject is the HMAC-SHA256 of a natsReply under
// the task's key (macSize bytes), then the natsReply: heartbeats while the
// task runs, then its answer or its failure. No NATS headers: the server
// and both clients would parse them on every message. The executor takes a reply
// only with the right MAC, which only who received the task can make
// (not who merely sees the replies, or learns the reply subject), and
// only from the worker that first replied. Cancelling a run is a message
// on PREFIX.cancel, which every worker hears, whose body is the run's
// reply subject. A request on PREFIX.workers, where every worker is a
// member of the group at all times, gets one worker's handshake: whether
// any worker is there, and what it knows.
const (
	keySize = 16
	macSize = sha256.Size
)

// A taskKey is a task's key.
type taskKey [keySize]byte

// newTaskKey returns a fresh random key for a task.
func newTaskKey() taskKey {
	var k taskKey
	rand.Read(k[:]) // never fails (crypto/rand)
	return k
}

// taskMessage returns the body of a task: its key, then run.
func taskMessage(key taskKey, run []byte) []byte {
	return append(append(make([]byte, 0, keySize+len(run)), key[:]...), run...)
}

// parseTask splits a task's body into its key and its run; a body too
// short for a key is all key, and its run empty.
func parseTask(b []byte) (key, run []byte) {
	n := min(len(b), keySize)
	return b[:n], b[n:]
}

// replyMAC appends the MAC of data under key to dst.
func replyMAC(dst, key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(dst)
}

// signReply returns the wire form of r: its MAC under key, then r.
func signReply(key []byte, r natsReply) []byte {
	data := r.encode()
	return append(replyMAC(make([]byte, 0, macSize+len(data)), key, data), data...)
}

// openReply returns what follows the MAC in b, and whether the MAC is
// data's under key.
func openReply(b []byte, key taskKey) (data []byte, ok bool) {
	if len(b) < macSize {
		return nil, false
	}
	return b[macSize:], hmac.Equal(b[:macSize], replyMAC(nil, key[:], b[macSize:]))
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
