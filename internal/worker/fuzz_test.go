package worker

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzReadFrame checks that whatever a worker writes, its parent never
// panics reading it, never allocates past MaxFrame, and reads back the
// frames it would have written.
func FuzzReadFrame(f *testing.F) {
	var good bytes.Buffer
	body, _ := RunBody("prime", []byte("10"))
	WriteFrame(&good, KindRun, 1, body...)
	WriteFrame(&good, KindFail, 2, FailBody(CodePanic, "boom", []byte("stack"))...)
	WriteFrame(&good, KindHello, 0, []byte(Magic+"\nprime"))
	f.Add(good.Bytes())
	f.Add([]byte("hello, world\n"))
	f.Add([]byte{0, 0, 0, 9, 'A', 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, input []byte) {
		br := bufio.NewReader(bytes.NewReader(input))
		for {
			fr, err := ReadFrame(br)
			if err != nil {
				return
			}
			if len(fr.Body) > MaxFrame {
				t.Fatalf("body of %d bytes", len(fr.Body))
			}
			switch fr.Kind {
			case KindRun, KindRunQueued:
				ParseRun(fr.Body)
			case KindFail:
				ParseFail(fr.Body)
			}
			var again bytes.Buffer
			if err := WriteFrame(&again, fr.Kind, fr.ID, fr.Body); err != nil {
				t.Fatal(err)
			}
			back, err := ReadFrame(bufio.NewReader(&again))
			if err != nil || back.Kind != fr.Kind || back.ID != fr.ID || !bytes.Equal(back.Body, fr.Body) {
				t.Fatalf("frame %+v did not round-trip: %+v, %v", fr, back, err)
			}
		}
	})
}
