package wire

import (
	"bufio"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestReadLine(t *testing.T) {
	const max = 8
	br := bufio.NewReaderSize(strings.NewReader("10\n20\r\n\n12345678\r\n123456789\nlast"), max+2)
	for _, want := range []string{"10", "20", "", "12345678"} {
		line, err := ReadLine(br, max)
		require.NoError(t, err)
		assert.Equal(t, want, string(line))
	}
	_, err := ReadLine(br, max)
	assert.ErrorIs(t, err, ErrLineTooLong, "nine bytes and a newline fit the buffer but not the limit")

	br = bufio.NewReaderSize(strings.NewReader("last"), max+2)
	line, err := ReadLine(br, max)
	require.NoError(t, err)
	assert.Equal(t, "last", string(line), "an unterminated last line is a request")
	_, err = ReadLine(br, max)
	assert.ErrorIs(t, err, io.EOF)

	br = bufio.NewReaderSize(strings.NewReader(strings.Repeat("x", 100)+"\n"), max+2)
	_, err = ReadLine(br, max)
	assert.ErrorIs(t, err, ErrLineTooLong, "a line longer than the buffer")
}

func TestAppendAnswerAndError(t *testing.T) {
	assert.Equal(t, "29\n", string(AppendAnswer(nil, []byte("29"))))
	assert.Equal(t, "ERR two lines\n", string(AppendError(nil, "two\nlines")))
	assert.Equal(t, "x ERR a  b\n", string(AppendError([]byte("x "), "a\r\nb")))
}
