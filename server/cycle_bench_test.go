package server

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/primetime-lab/primetime"
)

// endlessConn is a connection whose client asks "1\n" again and again, as
// fast as it is read, and whose answers go nowhere: a request's cycle
// through the server's own code, with no system call.
type endlessConn struct{ net.Conn }

func (endlessConn) Read(p []byte) (int, error) {
	n := 0
	for n+2 <= len(p) && n < 64 {
		p[n], p[n+1] = '1', '\n'
		n += 2
	}
	return n, nil
}
func (endlessConn) Write(p []byte) (int, error)      { return len(p), nil }
func (endlessConn) Close() error                     { return nil }
func (endlessConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (endlessConn) SetReadDeadline(time.Time) error  { return nil }
func (endlessConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkRequestCycle measures a request's cycle through a goroutine
// conn (ReadRequest, the prime task, WriteAnswer) against the minimal
// server's loop on the same connection (a bufio read of the line, the
// task, the write): what the server's own code costs per request.
func BenchmarkRequestCycle(b *testing.B) {
	b.Run("minimal", func(b *testing.B) {
		var c endlessConn
		br := bufio.NewReader(c)
		var out []byte
		for b.Loop() {
			line, _ := br.ReadSlice('\n')
			a, _ := primetime.Prime.Run(context.Background(), line[:len(line)-1])
			out = append(append(out[:0], a...), '\n')
			c.Write(out)
		}
	})
	b.Run("conn", func(b *testing.B) {
		s := &Server{proto: ProtocolLine, Logger: slog.New(slog.DiscardHandler)}
		s.initLocked()
		s.pol = s.resolvePolicy()
		c := newConn(s, endlessConn{})
		s.track(&c.session, c)
		s.watching.Store(true) // as under load: the watchdog ticks
		defer c.Close()
		for b.Loop() {
			req, err := c.ReadRequest()
			if err != nil {
				b.Fatal(err)
			}
			a, err := req.Task.Run(req.Context, req.Payload)
			if err := c.WriteAnswer(a, err); err != nil {
				b.Fatal(err)
			}
		}
	})
}
