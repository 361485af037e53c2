package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/primetime-lab/primetime/internal/wire"
)

// probeWait bounds the probe: a server that has not answered by then is
// left to the run, whose errors say what it does.
const probeWait = 2 * time.Second

// probe asks the small request once, on a connection of its own that it
// closes before the run (a server of one connection at a time then takes
// the run's), so that what would make every request of the run fail the
// same way fails now, with what to change: nothing listening, another
// protocol, a refusal of the small request, an answer the check does not
// take. A server that stalls, or closes the connection, is left to the
// run.
func (r *generator) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeWait)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", r.smallAt.addr)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return Fault("Addr", fmt.Sprintf("nothing listens on {Addr} %s: start the server, or give the address it listens on", r.smallAt.addr))
	case err != nil && ctx.Err() == nil:
		return Fault("Addr", fmt.Sprintf("cannot connect to {Addr} %q: %v", r.smallAt.addr, err))
	case err != nil:
		return nil // slow to connect: the run says more
	}
	nc.SetDeadline(time.Now().Add(probeWait))
	nc, err = r.smallAt.secure(ctx, nc)
	switch {
	case err != nil && ctx.Err() == nil:
		return Fault("Small", fmt.Sprintf("TLS with the server of the small request {Small} %q: %v", r.sc.Small, err))
	case err != nil:
		return nil // slow to shake hands: the run says more
	}
	defer nc.Close()
	if _, err := nc.Write(r.smallAt.request); err != nil {
		return nil
	}
	codec := r.smallAt.codec()
	size := answerBuffer
	if r.sc.Target != nil {
		size = wire.MaxTargetHead + 1
	}
	in := make([]byte, 0, size)
	for {
		n, a, err := codec.DecodeAnswer(in)
		if n > 0 && a.Partial {
			in = append(in[:0], in[n:]...)
			continue
		}
		switch {
		case err != nil && r.sc.Target != nil:
			return Fault("Small", fmt.Sprintf("the server of the small request {Small} %q does not answer HTTP: %v", r.sc.Small, err))
		case err != nil:
			return r.otherProtocol(in)
		case n > 0 && bytes.HasPrefix(in, []byte("HTTP/")) && r.sc.Protocol != wire.HTTP && r.sc.Target == nil:
			return r.otherProtocol(in)
		case n > 0:
			return r.judgeProbe(a)
		case len(in) == cap(in):
			return r.otherProtocol(in)
		}
		k, err := nc.Read(in[len(in):cap(in)])
		in = in[:len(in)+k]
		if err != nil && k == 0 {
			if d, ok := codec.(wire.EOFDecoder); ok && errors.Is(err, io.EOF) && len(in) == 0 {
				if a, ok := d.DecodeEOF(); ok {
					return r.judgeProbe(a)
				}
			}
			return nil // the run says more
		}
	}
}

// judgeProbe returns the error of the probe's answer a, or nil if the
// check takes it.
func (r *generator) judgeProbe(a wire.Answer) error {
	if a.Refused {
		return Fault("Small", fmt.Sprintf("the server refuses the small request {Small} %q: %s", r.sc.Small, a.Body))
	}
	err := r.smallCheck.check(a.Body)
	switch {
	case err != nil && r.sc.Target != nil:
		return Fault("Expect", fmt.Sprintf("the answer to the small request {Small} %q: %v", r.sc.Small, err))
	case err != nil:
		return Fault("Small", fmt.Sprintf("the server's %v, for the small request {Small}: a server of another task needs a check of its own (Scenario.Check; loadtest.AnyAnswer takes every answer)", err))
	}
	return nil
}

// otherProtocol is the error of a server that answered the probe in
// something other than the protocol's answers.
func (r *generator) otherProtocol(answer []byte) error {
	switch {
	case bytes.HasPrefix(answer, []byte("HTTP/")):
		return Fault("Protocol", fmt.Sprintf("the server at %s answers HTTP: set {Protocol} to http", r.sc.Addr))
	case r.sc.Protocol == wire.HTTP && bytes.IndexByte(answer, '\n') >= 0:
		return Fault("Protocol", fmt.Sprintf("the server at %s answers lines, not HTTP (%.40q): set {Protocol} to line, or recv", r.sc.Addr, answer))
	}
	return Fault("Protocol", fmt.Sprintf("the server at %s answered %.40q, which {Protocol} %s cannot decode: is it the server's protocol?", r.sc.Addr, answer, protocolName(r.sc.Protocol)))
}

func protocolName(p Protocol) string {
	if p == "" {
		return string(wire.Line)
	}
	return string(p)
}
