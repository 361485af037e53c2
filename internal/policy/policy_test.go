package policy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestLimitResolvesZeroAndNegativeSettings(t *testing.T) {
	assert.Equal(t, time.Minute, Limit(0, time.Minute))
	assert.Equal(t, time.Duration(0), Limit(-1, time.Minute), "negative: no limit")
	assert.Equal(t, time.Second, Limit(time.Second, time.Minute))
}

func TestSlackIsAnEighthAtMostASecond(t *testing.T) {
	assert.Equal(t, 100*time.Millisecond, Slack(800*time.Millisecond))
	assert.Equal(t, time.Second, Slack(2*time.Minute))
}

func TestBackoffDoublesUpToItsCapAndResets(t *testing.T) {
	var b Backoff
	var got []time.Duration
	for range 10 {
		got = append(got, b.Next())
	}
	assert.Equal(t, []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond,
		80 * time.Millisecond, 160 * time.Millisecond, 320 * time.Millisecond, 640 * time.Millisecond, time.Second, time.Second}, got)
	b.Reset()
	assert.Equal(t, 5*time.Millisecond, b.Next())
}
