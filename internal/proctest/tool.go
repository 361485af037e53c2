package proctest

import (
	"os"
	"os/exec"
	"testing"
)

// Tool returns the path of the program name, which a test needs beyond
// Go. Where it is missing the test is skipped, with the reason, unless
// CI=true says that every tool is installed: then it fails.
func Tool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing, and CI installs it: %v", name, err)
		}
		t.Skipf("%s is missing: %v", name, err)
	}
	return path
}
