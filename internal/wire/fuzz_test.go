package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReadLine checks that whatever a client sends, ReadLine never panics,
// never returns a line over the limit or one holding a line break, and
// consumes the input without looping.
func FuzzReadLine(f *testing.F) {
	for _, seed := range []string{"10\n", "10\r\n20\n", "", "\n\n", "abc", "\x00\xff\n", "123456789012345678901234567890\n", "\r\r\n"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		const max = 16
		br := bufio.NewReaderSize(bytes.NewReader(input), max+2)
		for range len(input) + 1 {
			line, err := ReadLine(br, max)
			if err != nil {
				if !errors.Is(err, ErrLineTooLong) && !errors.Is(err, io.EOF) {
					t.Fatalf("unexpected error %v", err)
				}
				if errors.Is(err, io.EOF) {
					return
				}
				return // the server closes the connection after a line over the limit
			}
			if len(line) > max {
				t.Fatalf("line of %d bytes over the limit of %d", len(line), max)
			}
			if bytes.IndexByte(line, '\n') >= 0 {
				t.Fatalf("line %q holds a newline", line)
			}
		}
		t.Fatalf("ReadLine did not reach the end of %d bytes", len(input))
	})
}
