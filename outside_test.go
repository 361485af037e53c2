package primetime_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAModuleOutsideTheRepositoryPlugsInItsOwnStrategies runs the tests of
// testdata/outside, a module of its own that depends on this one: it
// writes an executor and a scheduler, combines them with the built-in
// ones, registers the executor, and compares them with loadtest.Compare,
// in child processes and in-process. Only the exported API is in reach of
// such a module.
func TestAModuleOutsideTheRepositoryPlugsInItsOwnStrategies(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests another module")
	}
	cmd := exec.Command("go", "test", "-count=1", "./...")
	cmd.Dir = "testdata/outside"
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}
