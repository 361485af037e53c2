package primetime_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime"
)

func TestMain(m *testing.M) {
	// The examples run tasks in worker processes: this test binary.
	primetime.MaybeWorker()
	goleak.VerifyTestMain(m)
}
