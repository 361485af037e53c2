package loadtest

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime"
	"github.com/primetime-lab/primetime/server"
)

// serveProtocol serves the prime task, with the largest n maxN, in
// protocol on a loopback port until the test ends.
func serveProtocol(t *testing.T, protocol server.Protocol, maxN int) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &server.Server{Protocol: protocol, Task: primetime.NewPrimeTask("prime", maxN), Logger: discardLogger}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})
	return l.Addr().String()
}

var checkScenario = Scenario{Clients: 2, Long: "100", LongAfter: 50 * time.Millisecond, Duration: 300 * time.Millisecond, Interval: 50 * time.Millisecond}

func TestLoadAgainstAnotherProtocolSaysWhichToSet(t *testing.T) {
	for _, c := range []struct {
		served, spoken server.Protocol
		want           string
	}{
		{server.ProtocolHTTP, server.ProtocolLine, "answers HTTP: set Protocol to http"},
		{server.ProtocolLine, server.ProtocolHTTP, "answers lines, not HTTP"},
		{server.ProtocolRecv, server.ProtocolHTTP, "answers lines, not HTTP"},
	} {
		t.Run(string(c.spoken)+" to "+string(c.served), func(t *testing.T) {
			sc := checkScenario
			sc.Addr, sc.Protocol = serveProtocol(t, c.served, primetime.DefaultMaxN), c.spoken
			res, err := Run(context.Background(), sc, nil)
			assert.Nil(t, res)
			var fe *FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "Protocol", fe.Field)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestLoadCountsUndecodableAnswersOnceItHasBegun(t *testing.T) {
	srv := startFakeAfterProbe(t, "garbage")
	sc := checkScenario
	sc.Addr, sc.Protocol, sc.LongAfter = srv.addr(), server.ProtocolHTTP, -1
	res, err := Run(context.Background(), sc, nil)
	require.NoError(t, err)
	assert.Zero(t, res.Summary.Answers, "nothing undecodable is an answer")
	assert.Positive(t, res.Summary.ErrorsByKind["bad-answer"], "%v", res.Summary.ErrorsByKind)
}

func TestWrongAnswersAreErrors(t *testing.T) {
	srv := startFake(t, "wrong")
	sc := checkScenario
	sc.Addr, sc.LongAfter = srv.addr(), -1
	_, err := Run(context.Background(), sc, nil)
	assert.EqualError(t, err, `loadtest: the server's answer "3" to "1", want "2", for the small request Small: a server of another task needs a check of its own (Scenario.Check; loadtest.AnyAnswer takes every answer)`, "the probe's")

	sc.Addr = startFakeAfterProbe(t, "wrong").addr() // wrong once the run has begun
	res, err := Run(context.Background(), sc, nil)
	require.NoError(t, err)
	assert.Zero(t, res.Summary.Answers)
	assert.Equal(t, res.Summary.Errors, res.Summary.ErrorsByKind["bad-answer"])
	assert.Equal(t, `bad-answer: answer "3" to "1", want "2"`, res.Events[0].Detail)

	sc.Check = AnyAnswer
	res, err = Run(context.Background(), sc, nil)
	require.NoError(t, err)
	assert.Positive(t, res.Summary.Answers, "AnyAnswer takes them")
	assert.Zero(t, res.Summary.Errors)

	sc.Check = func(request, answer []byte) error {
		if string(answer) != "3" {
			return errors.New("not three")
		}
		return nil
	}
	res, err = Run(context.Background(), sc, nil)
	require.NoError(t, err)
	assert.Positive(t, res.Summary.Answers, "a check of one's own")
	assert.Zero(t, res.Summary.Errors)
}

func TestAWrongLongAnswerFailsTheLongRequest(t *testing.T) {
	srv := startFake(t, "wrong")
	sc := checkScenario
	sc.Addr, sc.Check = srv.addr(), func(request, answer []byte) error {
		if string(request) == "100" {
			return errors.New("not the 100th prime")
		}
		return nil
	}
	res, err := Run(context.Background(), sc, nil)
	require.NoError(t, err)
	s := res.Summary
	assert.False(t, s.LongAnswered)
	assert.Equal(t, `bad-answer: answer "3" to "100": not the 100th prime`, s.LongError)
	assert.Equal(t, "the long request failed", s.KeptMissing)
	assert.Zero(t, s.Kept)
}

func TestARefusedLongRequestIsReportedOverEveryProtocol(t *testing.T) {
	for _, protocol := range server.Protocols() {
		t.Run(string(protocol), func(t *testing.T) {
			sc := checkScenario
			sc.Addr, sc.Protocol, sc.Long = serveProtocol(t, protocol, 1000), protocol, "99999999"
			res, err := Run(context.Background(), sc, nil)
			require.NoError(t, err)
			s := res.Summary
			assert.True(t, s.LongRefused)
			assert.False(t, s.LongAnswered)
			assert.Contains(t, s.LongAnswer, "bad request")
			assert.Equal(t, "the long request was refused", s.KeptMissing)
			assert.Zero(t, s.Kept)
			assert.Positive(t, s.Answers)
			assert.Zero(t, s.Errors)
		})
	}
}

func TestTaskAnswersChecksByRunningTheTaskOnce(t *testing.T) {
	runs := 0
	double := primetime.TaskFunc("double", func(_ context.Context, p []byte) ([]byte, error) {
		runs++
		return append(p, p...), nil
	})
	check := TaskAnswers(double)
	assert.NoError(t, check([]byte("ab"), []byte("abab")))
	assert.NoError(t, check([]byte("ab"), []byte("abab")))
	assert.Equal(t, 1, runs, "each distinct request is computed once")
	assert.ErrorContains(t, check([]byte("ab"), []byte("ab")), `want "abab"`)
	assert.NoError(t, TaskAnswers(primetime.SHA256)([]byte("1"), []byte("d3d50a69952921308bbf142f9161784d6a43094048f5d5858a8d25c1545ae5b5")))
}
