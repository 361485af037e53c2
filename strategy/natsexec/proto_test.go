package natsexec

import (
	"bytes"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

// FuzzNATSReply checks that any bytes on an executor's inbox decode or
// fail without a panic, that what a worker encodes decodes to itself, and
// that a reply counts as signed only with the MAC of its bytes under the
// task's key (host stands for any MAC header a forger sends).
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
		const key = "0123456789abcdef0123456789abcdef"
		m := &nats.Msg{Data: wire, Header: nats.Header{natsMACHeader: []string{host}}}
		if signedBy(m, key) && !strings.EqualFold(host, replyMAC(key, wire)) {
			t.Fatalf("%q counts as signed with MAC %q", wire, host)
		}
		m.Header.Set(natsMACHeader, replyMAC(key, wire))
		if !signedBy(m, key) {
			t.Fatalf("%q signed by the worker does not count as signed", wire)
		}
	})
}
