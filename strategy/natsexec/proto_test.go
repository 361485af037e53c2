package natsexec

import (
	"bytes"
	"testing"
)

// FuzzNATSReply checks that any bytes on an executor's inbox decode or
// fail without a panic, that what a worker encodes decodes to itself, and
// that a reply counts as signed only with the MAC of its bytes under the
// task's key (any bytes stand for what a forger sends), and that a task's
// body splits into its key and its run.
func FuzzNATSReply(f *testing.F) {
	f.Add([]byte{replyAnswer, 0, 0, 4, 210, 4, 'h', 'o', 's', 't', '2'}, "host", 1234, []byte("29"))
	f.Add([]byte{replyBeat, 0, 0, 0, 1, 255}, "", 0, []byte(nil))
	f.Add([]byte{}, "a-host-name", 1<<31-1, []byte("answer"))
	f.Fuzz(func(t *testing.T, wire []byte, host string, pid int, body []byte) {
		if r, err := decodeReply(wire); err == nil && 6+len(r.host)+len(r.body) != len(wire) {
			t.Fatalf("decoded %d bytes of %d", 6+len(r.host)+len(r.body), len(wire))
		}
		in := natsReply{kind: replyFail, pid: int(uint32(pid)), host: host, body: body}
		out, err := decodeReply(in.encode())
		if err != nil {
			t.Fatal(err)
		}
		wantHost := host[:min(len(host), 255)]
		if out.kind != in.kind || out.pid != in.pid || out.host != wantHost || !bytes.Equal(out.body, body) {
			t.Fatalf("encoded %+v, decoded %+v", in, out)
		}
		key := taskKey([]byte("0123456789abcdef"))
		signed := signReply(key[:], in)
		if data, ok := openReply(signed, key); !ok || !bytes.Equal(data, in.encode()) {
			t.Fatalf("%+v signed by the worker opens as %q, %v", in, data, ok)
		}
		if data, ok := openReply(wire, key); ok && !bytes.Equal(wire, signReply(key[:], mustDecode(t, data))) {
			t.Fatalf("%q counts as signed", wire)
		}
		other := key
		other[0] ^= 1
		if _, ok := openReply(signed, other); ok {
			t.Fatalf("%+v counts as signed under another key", in)
		}
		if k, run := parseTask(wire); !bytes.Equal(append(k, run...), wire) || len(k) != min(len(wire), keySize) {
			t.Fatalf("task %q split into %q and %q", wire, k, run)
		}
	})
}

// mustDecode decodes a reply whose MAC was right: only signReply made it.
func mustDecode(t *testing.T, data []byte) natsReply {
	t.Helper()
	r, err := decodeReply(data)
	if err != nil {
		t.Fatalf("a signed reply %q does not decode: %v", data, err)
	}
	return r
}
