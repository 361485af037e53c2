package loadtest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/server"
)

func TestRunSpeaksEveryProtocol(t *testing.T) {
	for _, protocol := range server.Protocols() {
		t.Run(string(protocol), func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			srv := &server.Server{Protocol: protocol, Logger: discardLogger}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(l) }()
			defer func() {
				srv.Close()
				<-served
			}()
			sc := Scenario{Addr: l.Addr().String(), Protocol: protocol, Clients: 2, Long: "100", LongAfter: 50 * time.Millisecond, Duration: 200 * time.Millisecond, Interval: 50 * time.Millisecond}
			res, err := Run(context.Background(), sc, nil)
			require.NoError(t, err)
			assert.Positive(t, res.Summary.Answers)
			assert.Zero(t, res.Summary.Errors)
			assert.Equal(t, "541", res.Summary.LongAnswer)

			sc.Small, sc.LongAfter = "abc", -1
			_, err = Run(context.Background(), sc, nil)
			want := `ERR bad request: want a positive integer n, got "abc"`
			if protocol == server.ProtocolHTTP {
				want = `HTTP 400 Bad Request: bad request: want a positive integer n, got "abc"`
			}
			assert.EqualError(t, err, `loadtest: the server refuses the small request Small "abc": `+want, "the probe's answer, in each protocol's words")
		})
	}
}

func TestRunRefusesAnUnknownProtocol(t *testing.T) {
	_, err := Run(context.Background(), Scenario{Addr: "x", Protocol: "smtp"}, nil)
	assert.ErrorContains(t, err, `unknown protocol "smtp"`)
}
