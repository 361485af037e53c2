package natsexec_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/primetime-lab/primetime"
)

func TestMain(m *testing.M) {
	primetime.MaybeWorker() // the workers are this test binary
	goleak.VerifyTestMain(m)
}
