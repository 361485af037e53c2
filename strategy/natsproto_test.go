package strategy

import (
	"bytes"
	"testing"
)

// FuzzNATSReply checks that any bytes on an executor's inbox decode or
// fail without a panic, and that what a worker encodes decodes to itself.
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
	})
}
