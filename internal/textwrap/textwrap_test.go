package textwrap

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestWrapKeepsWithinTheWidthAndLosesNoWord(t *testing.T) {
	text := "kept = during/s ÷ before/s: the share of the small requests' flow that survived the long request (the lecture's figure)"
	out := Wrap(text, 40)
	for line := range strings.SplitSeq(out, "\n") {
		assert.LessOrEqual(t, utf8.RuneCountInString(line), 40, "%q", line)
	}
	assert.Equal(t, strings.Fields(text), strings.Fields(out))
	assert.True(t, strings.HasPrefix(strings.Split(out, "\n")[1], "    "), "the lines after the first are indented")
	assert.Equal(t, "short", Wrap("short", 40))
}
