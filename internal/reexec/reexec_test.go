package reexec

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if IsWorker() { // a child of this package's tests, in a role of its own
		if ok, err := RunRole(); ok {
			if err != nil {
				os.Stderr.WriteString(err.Error() + "\n")
				os.Exit(1)
			}
			os.Exit(0)
		}
	}
	goleak.VerifyTestMain(m)
}

func TestAChildsRoleIsItsOwn(t *testing.T) {
	// As in a server child whose strategy starts task workers.
	t.Setenv(EnvRole, "some-server")
	cmd, err := Command("", nil, "", nil)
	require.NoError(t, err)
	assert.False(t, slices.ContainsFunc(cmd.Env, func(kv string) bool { return strings.HasPrefix(kv, EnvRole+"=") }),
		"a task worker inherits no role")
	assert.Contains(t, cmd.Env, EnvMarker+"="+markerValue)
	assert.Equal(t, "-test.run=^$", cmd.Args[1], "a test binary started again runs no test")

	cmd, err = Command("", nil, "other", nil)
	require.NoError(t, err)
	var roles []string
	for _, kv := range cmd.Env {
		if v, ok := strings.CutPrefix(kv, EnvRole+"="); ok {
			roles = append(roles, v)
		}
	}
	assert.Equal(t, []string{"other"}, roles)
}
