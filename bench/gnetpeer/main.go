// Command gnetpeer is the lecture's line server written on gnet, the
// event-loop library, as a peer for the benchmarks of loop and loops:N:
// the same protocol (a number a line, its prime a line), the same
// deliberately slow trial division (primetime.NthPrime). It lives in a
// module of its own so that primetime does not require gnet.
//
// Usage: gnetpeer -loops N. It listens on a free loopback port, prints
// "gnetpeer ADDR", and stops when its stdin closes.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
	"golang.org/x/sys/unix"

	"github.com/primetime-lab/primetime"
)

type server struct {
	gnet.BuiltinEventEngine
	booted chan gnet.Engine
}

func (s *server) OnBoot(eng gnet.Engine) gnet.Action {
	s.booted <- eng
	return gnet.None
}

// OnTraffic answers every whole line the connection holds; a partial one
// waits for the rest.
func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	in, _ := c.Peek(-1)
	end := bytes.LastIndexByte(in, '\n')
	if end < 0 {
		return gnet.None
	}
	var out []byte
	for line := range bytes.Lines(in[:end+1]) {
		n, err := strconv.Atoi(string(bytes.TrimRight(line, "\r\n")))
		if err != nil || n < 1 {
			out = append(out, "ERR bad request\n"...)
			continue
		}
		p, err := primetime.NthPrime(context.Background(), n)
		if err != nil {
			out = append(out, "ERR "+err.Error()+"\n"...)
			continue
		}
		out = strconv.AppendInt(out, int64(p), 10)
		out = append(out, '\n')
	}
	c.Discard(end + 1)
	c.Write(out)
	return gnet.None
}

func main() {
	loops := flag.Int("loops", 1, "event loops")
	flag.Parse()
	s := &server{booted: make(chan gnet.Engine, 1)}
	ran := make(chan error, 1)
	go func() {
		ran <- gnet.Run(s, "tcp://127.0.0.1:0", gnet.WithMulticore(*loops > 1), gnet.WithNumEventLoop(*loops),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay), gnet.WithLoadBalancing(gnet.RoundRobin), gnet.WithLogLevel(logging.ErrorLevel))
	}()
	var eng gnet.Engine
	select {
	case eng = <-s.booted:
	case err := <-ran:
		fmt.Fprintln(os.Stderr, "gnetpeer:", err)
		os.Exit(1)
	}
	fd, err := eng.Dup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gnetpeer:", err)
		os.Exit(1)
	}
	sa, err := unix.Getsockname(fd)
	unix.Close(fd)
	in4, ok := sa.(*unix.SockaddrInet4)
	if err != nil || !ok {
		fmt.Fprintln(os.Stderr, "gnetpeer: its address:", err)
		os.Exit(1)
	}
	fmt.Printf("gnetpeer 127.0.0.1:%d\n", in4.Port)
	io.Copy(io.Discard, os.Stdin)
	if err := eng.Stop(context.Background()); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "gnetpeer:", err)
	}
	<-ran
}
