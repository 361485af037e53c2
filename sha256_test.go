package primetime_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/primetime-lab/primetime"
)

// TestTheSHA256TaskAnswersAsHashlibDoes checks the task against vectors
// from CPython's hashlib, computed with the same chaining:
//
//	buf = bytearray(i % 251 for i in range(64 * 1024)); s = bytes(32)
//	for _ in range(n): buf[0:32] = s; s = hashlib.sha256(buf).digest()
func TestTheSHA256TaskAnswersAsHashlibDoes(t *testing.T) {
	for n, want := range map[string]string{
		"1": "d3d50a69952921308bbf142f9161784d6a43094048f5d5858a8d25c1545ae5b5",
		"3": "cc4cd925fb2d52aa77071a6a232c6adc947f28efcf2af0a5e3d0d212c93ef2c6",
	} {
		got, err := primetime.SHA256.Run(context.Background(), []byte(n))
		assert.NoError(t, err)
		assert.Equal(t, want, string(got), "n=%s", n)
	}
	for _, bad := range []string{"0", "-1", "x", "1000001"} {
		_, err := primetime.SHA256.Run(context.Background(), []byte(bad))
		assert.ErrorIs(t, err, primetime.ErrBadRequest, bad)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := primetime.SHA256.Run(ctx, []byte("1000"))
	assert.ErrorIs(t, err, context.Canceled, "it stops at its checkpoints")
	task, ok := primetime.Lookup("sha256")
	assert.True(t, ok, "registered")
	assert.Equal(t, "sha256", task.Name())
}
