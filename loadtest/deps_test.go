package loadtest

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTheGeneratorLinksNoOrchestration checks that a program that only
// runs the load generator against its own server links none of what
// running experiments takes: the child servers and idle connections of
// package compare, the CPython rows, and the servers themselves.
func TestTheGeneratorLinksNoOrchestration(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".", "./report").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	for _, pkg := range []string{"loadtest/compare", "internal/cpython", "server", "strategy"} {
		assert.NotContains(t, deps, "github.com/primetime-lab/primetime/"+pkg)
	}
}
