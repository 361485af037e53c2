package server_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAServerLinksNoNATS checks that a program that serves a strategy of
// package strategy with a Server links no NATS package: the NATS executor
// is package natsexec's, linked only where it is imported.
func TestAServerLinksNoNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".", "../strategy").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, pkg := range strings.Fields(string(out)) {
		assert.NotContains(t, pkg, "nats", "a Server and package strategy link %s", pkg)
	}
}
