// Package worker is the plumbing of worker processes: the framing of
// requests and answers on a worker's stdin and stdout, the worker's serving
// loop, and the parent's handle on one worker process.
//
// A frame is a 4-byte big-endian length followed by that many bytes: a kind
// byte, an 8-byte request id, and the rest, whose form depends on the kind.
// stderr stays free for the worker's logs.
package worker

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Kind is a frame's kind.
type Kind byte

// The frame kinds.
const (
	// KindHello is the worker's handshake: Magic, then the names of the
	// tasks it has registered, one per line.
	KindHello Kind = 'H'
	// KindRun asks the worker to run a task: a 2-byte name length, the
	// task's name, then the payload.
	KindRun Kind = 'R'
	// KindRunQueued is a KindRun sent while requests have lately had to
	// wait for a worker: the worker can expect its next request soon.
	KindRunQueued Kind = 'Q'
	// KindCancel asks the worker to cancel the run with the frame's id.
	KindCancel Kind = 'C'
	// KindAnswer is a run's answer: the task's answer payload.
	KindAnswer Kind = 'A'
	// KindFail is a run's failure: a Code byte, a 4-byte message length,
	// the message, then a stack trace (for CodePanic).
	KindFail Kind = 'F'
)

// Code says how a run failed.
type Code byte

// The failure codes.
const (
	CodeFailed      Code = 'f'
	CodeBadRequest  Code = 'b'
	CodeCanceled    Code = 'c'
	CodePanic       Code = 'p'
	CodeUnknownTask Code = 'u'
)

// Magic starts every worker's handshake; it changes whenever the framing
// does, so that a parent and a worker built from different versions refuse
// each other.
const Magic = "primetime-worker/2"

// MaxFrame bounds a frame's length, so that a worker that writes garbage
// cannot make its parent allocate without bound.
const MaxFrame = 64 << 20

const headerLen = 4 + 1 + 8

// ErrFrameTooLong is returned by ReadFrame for a length over MaxFrame.
var ErrFrameTooLong = errors.New("worker: frame too long")

// A Frame is one message between a parent and a worker.
type Frame struct {
	Kind Kind
	ID   uint64
	Body []byte
}

// WriteFrame writes one frame of the given kind and id, whose body is the
// concatenation of parts.
func WriteFrame(w io.Writer, kind Kind, id uint64, parts ...[]byte) error {
	n := 1 + 8
	for _, p := range parts {
		n += len(p)
	}
	if n > MaxFrame {
		return ErrFrameTooLong
	}
	buf := make([]byte, 4+n)
	binary.BigEndian.PutUint32(buf, uint32(n))
	buf[4] = byte(kind)
	binary.BigEndian.PutUint64(buf[5:], id)
	off := headerLen
	for _, p := range parts {
		off += copy(buf[off:], p)
	}
	_, err := w.Write(buf)
	return err
}

// ReadFrame reads one frame. Its Body is a new slice.
func ReadFrame(r *bufio.Reader) (Frame, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return Frame{}, err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n > MaxFrame {
		return Frame{}, fmt.Errorf("%w: %d bytes (the first bytes were %q)", ErrFrameTooLong, n, head[:])
	}
	if n < 9 {
		return Frame{}, fmt.Errorf("worker: frame of %d bytes is shorter than its header", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Frame{}, err
	}
	return Frame{Kind: Kind(body[0]), ID: binary.BigEndian.Uint64(body[1:9]), Body: body[9:]}, nil
}

// RunBody returns the body of a KindRun or KindRunQueued frame.
func RunBody(task string, payload []byte) ([][]byte, error) {
	if len(task) > 0xffff {
		return nil, fmt.Errorf("worker: task name of %d bytes is too long", len(task))
	}
	var n [2]byte
	binary.BigEndian.PutUint16(n[:], uint16(len(task)))
	return [][]byte{n[:], []byte(task), payload}, nil
}

// ParseRun splits the body of a KindRun or KindRunQueued frame into the
// task's name and the payload.
func ParseRun(body []byte) (task string, payload []byte, err error) {
	if len(body) < 2 {
		return "", nil, errors.New("worker: run frame too short")
	}
	n := int(binary.BigEndian.Uint16(body))
	if len(body) < 2+n {
		return "", nil, errors.New("worker: run frame shorter than its task name")
	}
	return string(body[2 : 2+n]), body[2+n:], nil
}

// FailBody returns the body of a KindFail frame.
func FailBody(code Code, msg string, stack []byte) [][]byte {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(msg)))
	return [][]byte{{byte(code)}, n[:], []byte(msg), stack}
}

// ParseFail splits a KindFail body into its code, message and stack.
func ParseFail(body []byte) (code Code, msg string, stack []byte, err error) {
	if len(body) < 5 {
		return 0, "", nil, errors.New("worker: fail frame too short")
	}
	n := int(binary.BigEndian.Uint32(body[1:]))
	if n > len(body)-5 {
		return 0, "", nil, errors.New("worker: fail frame shorter than its message")
	}
	return Code(body[0]), string(body[5 : 5+n]), body[5+n:], nil
}
