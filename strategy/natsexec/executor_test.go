package natsexec_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/worker"
	"github.com/primetime-lab/primetime/strategy"
	"github.com/primetime-lab/primetime/strategy/natsexec"
)

func TestImportingThePackageRegistersTheForm(t *testing.T) {
	for text, want := range map[string]string{
		"loop+nats:2":   "loop+nats:2",
		"perconn+nats":  "perconn+nats",
		"pool:4+NATS:3": "pool:4+nats:3",
	} {
		s, err := strategy.Parse(text)
		require.NoError(t, err, text)
		assert.Equal(t, want, s.String())
	}
	for text, want := range map[string]string{
		"loop+nats:0": `strategy: "loop+nats:0": nats size "0" is not a whole number from 1 to 65536`,
		"loop+nats:x": `strategy: "loop+nats:x": nats size "x" is not a whole number from 1 to 65536`,
	} {
		_, err := strategy.Parse(text)
		assert.EqualError(t, err, want)
	}
	assert.Equal(t, "loop+nats:2", strategy.LoopWithOffload(natsexec.New(2, natsexec.Conn{URL: "nats://10.0.0.5:4222"})).String(), "the URL is not in the text form")
	assert.Equal(t, "perconn+nats", strategy.Offload(strategy.PerConn(), natsexec.New(0, natsexec.Conn{})).String())
	assert.Equal(t, strategy.Description{Scheduler: strategy.Part{Name: "loop"}, Executor: strategy.Part{Name: natsexec.Name, Size: 2}, Loop: true},
		strategy.Describe(strategy.LoopWithOffload(natsexec.New(2, natsexec.Conn{}))))
	assert.Panics(t, func() { natsexec.New(-1, natsexec.Conn{}) })
}

func TestWithChangesOnlyANATSExecutor(t *testing.T) {
	nats := strategy.LoopWithOffload(natsexec.New(2, natsexec.Conn{}))
	elsewhere := natsexec.Conn{URL: "nats://10.0.0.5:4222", Prefix: "blue"}
	moved := natsexec.With(nats, elsewhere)
	assert.NotEqual(t, nats, moved)
	assert.Equal(t, nats.String(), moved.String())
	assert.Equal(t, strategy.LoopWithOffload(natsexec.New(2, elsewhere)), moved)
	for _, s := range []strategy.Strategy{strategy.ProcessPool(2), strategy.Loop()} {
		assert.Equal(t, s, natsexec.With(s, elsewhere))
	}
}

func TestALostNATSServerIsLoggedOnceNotPerRequest(t *testing.T) {
	err := fmt.Errorf("%w: the connection was lost", natsexec.ErrUnreachable)
	assert.ErrorIs(t, err, natsexec.ErrUnreachable)
	assert.ErrorIs(t, err, worker.ErrLogged, "the server leaves it to the executor's one line")
	assert.Equal(t, "NATS server unreachable: the connection was lost", err.Error())
}
