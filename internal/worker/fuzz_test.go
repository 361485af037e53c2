package worker

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzReadFrame checks that whatever a worker writes, its parent never
// panics reading it, never allocates past maxFrame, and reads back the
// frames it would have written.
func FuzzReadFrame(f *testing.F) {
	var good bytes.Buffer
	body, _ := runBody("prime", []byte("10"))
	writeFrame(&good, kindRun, 1, body...)
	writeFrame(&good, kindFail, 2, failBody(CodePanic, "boom", []byte("stack"))...)
	writeFrame(&good, kindHello, 0, []byte(magic+"\nprime"))
	f.Add(good.Bytes())
	f.Add([]byte("hello, world\n"))
	f.Add([]byte{0, 0, 0, 9, 'A', 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, input []byte) {
		br := bufio.NewReader(bytes.NewReader(input))
		for {
			fr, err := readFrame(br)
			if err != nil {
				return
			}
			if len(fr.Body) > maxFrame {
				t.Fatalf("body of %d bytes", len(fr.Body))
			}
			switch fr.kind {
			case kindRun, kindRunQueued:
				parseRun(fr.Body)
			case kindFail:
				parseFail(fr.Body)
			}
			var again bytes.Buffer
			if err := writeFrame(&again, fr.kind, fr.ID, fr.Body); err != nil {
				t.Fatal(err)
			}
			back, err := readFrame(bufio.NewReader(&again))
			if err != nil || back.kind != fr.kind || back.ID != fr.ID || !bytes.Equal(back.Body, fr.Body) {
				t.Fatalf("frame %+v did not round-trip: %+v, %v", fr, back, err)
			}
		}
	})
}
