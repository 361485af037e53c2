package compare

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime"
)

func TestMain(m *testing.M) {
	// Run starts servers in child processes: this test binary.
	primetime.MaybeWorker()
	goleak.VerifyTestMain(m)
}
