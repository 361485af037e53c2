package primetime_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAModuleOutsideTheRepositoryPlugsInItsOwnStrategies runs the tests of
// testdata/outside, a module of its own that depends on this one: it
// writes an executor and a scheduler, combines them with the built-in
// ones, registers the executor, and compares them with compare.Run,
// in child processes and in-process. Only the exported API is in reach of
// such a module. The module is copied out with this module's go.sum, and
// its replace directive pointed here, so that it always builds against
// this tree and its dependencies.
func TestAModuleOutsideTheRepositoryPlugsInItsOwnStrategies(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests another module")
	}
	root, err := os.Getwd()
	require.NoError(t, err)
	dir := t.TempDir()
	files, err := filepath.Glob("testdata/outside/*")
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		if filepath.Base(f) == "go.mod" {
			b = []byte(strings.Replace(string(b), "=> ../..", "=> "+root, 1))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644))
	}
	sum, err := os.ReadFile("go.sum")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))

	cmd := exec.Command("go", "test", "-count=1", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}
