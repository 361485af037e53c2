package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/strategy"
)

// documents are the files whose commands are checked: the README and docs/.
func documents(t *testing.T) []string {
	docs, err := filepath.Glob("../../docs/*.md")
	require.NoError(t, err)
	return append([]string{"../../README.md"}, docs...)
}

// shellBlock matches a fenced block of shell commands.
var shellBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")

// documentedCommands returns the primetime command lines of a document's
// shell blocks, as argument lists after "primetime", with what each line
// said.
func documentedCommands(t *testing.T, doc string) map[string][]string {
	b, err := os.ReadFile(doc)
	require.NoError(t, err)
	cmds := map[string][]string{}
	for _, m := range shellBlock.FindAllStringSubmatch(string(b), -1) {
		block := strings.ReplaceAll(m[1], "\\\n", " ")
		for line := range strings.SplitSeq(block, "\n") {
			i := strings.Index(line, "primetime ")
			if i < 0 || strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			rest := line[i+len("primetime "):]
			if j := strings.Index(rest, " #"); j >= 0 {
				rest = rest[:j] // a comment
			}
			for _, end := range []string{" &&", " |", ";", " &"} {
				if j := strings.Index(rest, end); j >= 0 {
					rest = rest[:j]
				}
			}
			cmds[strings.TrimSpace(line)] = shellWords(t, rest)
		}
	}
	// Commands in the text, written whole: not the synopses, whose
	// brackets and capitals stand for what the reader chooses.
	for _, m := range inlineCommand.FindAllStringSubmatch(string(b), -1) {
		if !strings.ContainsAny(m[2], "[<>|") && !strings.Contains(m[2], "...") {
			cmds[m[1]] = shellWords(t, m[2])
		}
	}
	return cmds
}

// inlineCommand matches a command in a document's text.
var inlineCommand = regexp.MustCompile("`((?:go run \\./cmd/)?primetime ([^`]+))`")

// shellWords splits a command line as a shell would, for the simple lines
// of the documents: words, single and double quotes, and $at, the start
// time the documents compute with date, as a fixed time to come.
func shellWords(t *testing.T, line string) []string {
	line = strings.ReplaceAll(line, "$at", "2099-01-01T00:00:00Z")
	require.NotContains(t, line, "$", "a shell variable in %q that the check does not know", line)
	var words []string
	var w strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			w.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// TestTheDocumentsCommandsAreRight reads every primetime command in the
// README and docs/ as the command would, and fails on one it would refuse:
// a flag renamed or gone, a value it no longer takes, a command that
// changed its arguments. The commands are read, not run.
func TestTheDocumentsCommandsAreRight(t *testing.T) {
	checkOnly = true
	defer func() { checkOnly = false }()
	seen := 0
	for _, doc := range documents(t) {
		for line, args := range documentedCommands(t, doc) {
			seen++
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, &stdout, &stderr)
			assert.Equal(t, 0, code, "%s: %q: %s", filepath.Base(doc), line, stderr.String())
		}
	}
	assert.Greater(t, seen, 30, "the documents' commands were found")
}

// TestTheREADMEListsEveryForm checks the README's table of strategies
// against the forms that strategy.Parse reads: each built-in scheduler and
// executor has a row.
func TestTheREADMEListsEveryForm(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	var table strings.Builder
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "| `") {
			table.WriteString(strings.SplitN(line, "|", 3)[1])
		}
	}
	scheds, execs := strategy.Forms()
	for _, form := range append(scheds, execs...) {
		name, _, _ := strings.Cut(form, ":")
		if name == "inline" {
			assert.Contains(t, string(b), "`inline`", "the README names the default executor")
			continue
		}
		assert.Regexp(t, "`("+name+"[:`]|[a-z:0-9]+\\+"+name+")", table.String(), "the README's table has no row of %s", form)
	}
}

// TestTheCommandsDocNamesEveryCommand checks the package documentation's
// synopsis against the commands that "primetime help" lists.
func TestTheCommandsDocNamesEveryCommand(t *testing.T) {
	b, err := os.ReadFile("main.go")
	require.NoError(t, err)
	doc, _, _ := strings.Cut(string(b), "package main")
	_, list, _ := strings.Cut(usage, "commands:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	for line := range strings.SplitSeq(list, "\n") {
		name := strings.Fields(line)[0]
		assert.Contains(t, doc, "//\tprimetime "+name+" ", "the package documentation has no synopsis of %s", name)
	}
}
