package reexec

import (
	"bytes"
	"os/exec"
	"regexp"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAPinnedCommandRunsOnItsCPUsOnly(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("CPU affinity is Linux's")
	}
	cpus, err := CPUsFor(1)
	require.NoError(t, err)
	cmd, err := Pin(exec.Command("cat", "/proc/self/status"), cpus)
	require.NoError(t, err)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	m := regexp.MustCompile(`(?m)^Cpus_allowed_list:\s*(\S+)$`).FindStringSubmatch(out.String())
	require.NotNil(t, m, "the command's /proc/self/status:\n%s", out.String())
	assert.Equal(t, cpuList(cpus), m[1], "the command runs on the CPU it was pinned to")
	assert.Regexp(t, `(?m)^Name:\s*cat$`, out.String(), "the pinning process became the command")

	_, err = CPUsFor(runtime.NumCPU() + 1)
	assert.ErrorContains(t, err, "CPUs asked, and this machine lets this program run on")
}
