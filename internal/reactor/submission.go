package reactor

import "sync/atomic"

// A Submission is one task handed to an executor whose answer may come
// before the executor's Submit returns, as the inline executor's does: the
// loop then takes the answer itself, at once, where a later one comes back
// to it as an event. The zero value is ready for Start.
type Submission struct {
	// state is pending, early (answered before Submit returned) or late
	// (Submit returned first).
	state  atomic.Uint32
	answer []byte
	err    error
}

const (
	pending uint32 = iota
	early
	late
)

// Start readies s for a new task; call it before Submit.
func (s *Submission) Start() { s.state.Store(pending) }

// Early is called by the task's done with its answer. It reports whether
// Submit had not returned yet: the answer is then the submitter's to take
// with Returned, and done must do nothing more.
func (s *Submission) Early(answer []byte, err error) bool {
	s.answer, s.err = answer, err
	return s.state.CompareAndSwap(pending, early)
}

// Returned is called by the submitter once Submit has returned. It
// reports whether the answer came before, and returns it then.
func (s *Submission) Returned() (answer []byte, err error, answered bool) {
	if s.state.CompareAndSwap(pending, late) {
		return nil, nil, false
	}
	answer, err = s.answer, s.err
	s.answer, s.err = nil, nil
	return answer, err, true
}
