// Package textwrap breaks the command's long lines, so that what it prints
// fits a terminal of Width columns.
package textwrap

import (
	"strings"
	"unicode/utf8"
)

// Width is the width the command's output keeps within.
const Width = 120

// Wrap breaks text into lines of at most width columns, at spaces, the
// lines after the first indented by four.
func Wrap(text string, width int) string {
	var b strings.Builder
	line := 0
	for i, word := range strings.Fields(text) {
		n := utf8.RuneCountInString(word)
		switch {
		case i > 0 && line+1+n > width:
			b.WriteString("\n    ")
			line = 4
		case i > 0:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += n
	}
	return b.String()
}
