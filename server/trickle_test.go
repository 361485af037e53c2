package server_test

import (
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/primetime-lab/primetime/internal/testkit"
	"github.com/primetime-lab/primetime/server"
)

// TestATricklingClientIsClosed sends a request one byte at a time, every
// 10 ms, and never ends it: on every strategy and protocol, the server
// closes the connection once the read timeout (here the idle timeout, 100
// ms) has passed since its first byte, however often bytes come.
func TestATricklingClientIsClosed(t *testing.T) {
	for _, protocol := range []server.Protocol{server.ProtocolLine, server.ProtocolHTTP} {
		for _, text := range []string{"serial", "perconn", "pool:2", "loop", "loops:2", "loop+goroutines:2", "procpool:2", "loop+procs:2"} {
			t.Run(string(protocol)+"/"+text, func(t *testing.T) {
				ts := start(t, &server.Server{Strategy: parse(t, text), Protocol: protocol, IdleTimeout: 100 * time.Millisecond})
				c := testkit.Dial(t, ts.addr)
				closed := make(chan error, 1)
				go func() {
					_, err := io.ReadAll(c.Conn()) // until the server closes
					closed <- err
				}()
				tick := time.NewTicker(10 * time.Millisecond)
				defer tick.Stop()
				start := "GET /prime/"
				if protocol == server.ProtocolLine {
					start = "1"
				}
				c.Conn().Write([]byte(start))
				for deadline := time.After(testkit.Bound); ; {
					select {
					case err := <-closed:
						// Closed by the server: at EOF, or by a reset if
						// the socket held bytes it had not read.
						if err != nil {
							assert.ErrorIs(t, err, syscall.ECONNRESET)
						}
						return
					case <-deadline:
						t.Fatal("the server kept a trickling client past the read timeout")
					case <-tick.C:
						c.Conn().Write([]byte("0")) // the request never ends
					}
				}
			})
		}
	}
}
