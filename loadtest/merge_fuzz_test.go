package loadtest

import (
	"bytes"
	"testing"
	"time"
)

// FuzzMergeInput feeds Merge what ReadJSON makes of any bytes: a corrupted
// file is an error, never a panic.
func FuzzMergeInput(f *testing.F) {
	var good bytes.Buffer
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	r := &Result{Scenario: Scenario{Small: "1", Interval: time.Second}, Start: t0, End: t0.Add(time.Second),
		Intervals: []Interval{{Start: t0, End: t0.Add(time.Second), Answers: 1, Histogram: []byte("HISTFAAAAB542pJpmSzMwMDAwgABzFDqBQMDAwAAAP//Gl0BJg==")}}}
	if err := r.WriteJSON(&good); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(`{"scenario":{"interval":1000000000},"start":"2026-12-01T12:00:00Z","intervals":[{"hdr":"AAAA"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		Merge(res, res)
		var b bytes.Buffer
		res.WriteHlog(&b, "")
	})
}
