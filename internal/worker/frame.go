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

// kind is a frame's kind.
type kind byte

// The frame kinds.
const (
	// kindHello is the worker's handshake: magic, then the names of the
	// tasks it has registered, one per line.
	kindHello kind = 'H'
	// kindRun asks the worker to run a task: a 2-byte name length, the
	// task's name, then the payload.
	kindRun kind = 'R'
	// kindRunQueued is a kindRun sent while requests have lately had to
	// wait for a worker: the worker can expect its next request soon.
	kindRunQueued kind = 'Q'
	// kindCancel asks the worker to cancel the run with the frame's id.
	kindCancel kind = 'C'
	// kindAnswer is a run's answer: the task's answer payload.
	kindAnswer kind = 'A'
	// kindFail is a run's failure: a Code byte, a 4-byte message length,
	// the message, then a stack trace (for CodePanic).
	kindFail kind = 'F'
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

// magic starts every worker's handshake; it changes whenever the framing
// does, or the NATS executor's envelope, so that a parent and a worker
// built from different versions refuse each other.
const magic = "primetime-worker/3"

// maxFrame bounds a frame's length, so that a worker that writes garbage
// cannot make its parent allocate without bound.
const maxFrame = 64 << 20

const headerLen = 4 + 1 + 8

// errFrameTooLong is returned by readFrame for a length over maxFrame.
var errFrameTooLong = errors.New("worker: frame too long")

// A frame is one message between a parent and a worker.
type frame struct {
	kind kind
	ID   uint64
	Body []byte
}

// writeFrame writes one frame of the given kind and id, whose body is the
// concatenation of parts.
func writeFrame(w io.Writer, kind kind, id uint64, parts ...[]byte) error {
	n := 1 + 8
	for _, p := range parts {
		n += len(p)
	}
	if n > maxFrame {
		return errFrameTooLong
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

// readFrame reads one frame. Its Body is a new slice.
func readFrame(r *bufio.Reader) (frame, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return frame{}, err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n > maxFrame {
		return frame{}, fmt.Errorf("%w: %d bytes (the first bytes were %q)", errFrameTooLong, n, head[:])
	}
	if n < 9 {
		return frame{}, fmt.Errorf("worker: frame of %d bytes is shorter than its header", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return frame{}, err
	}
	return frame{kind: kind(body[0]), ID: binary.BigEndian.Uint64(body[1:9]), Body: body[9:]}, nil
}

// runBody returns the body of a kindRun or kindRunQueued frame.
func runBody(task string, payload []byte) ([][]byte, error) {
	if len(task) > 0xffff {
		return nil, fmt.Errorf("worker: task name of %d bytes is too long", len(task))
	}
	var n [2]byte
	binary.BigEndian.PutUint16(n[:], uint16(len(task)))
	return [][]byte{n[:], []byte(task), payload}, nil
}

// parseRun splits the body of a kindRun or kindRunQueued frame into the
// task's name and the payload.
func parseRun(body []byte) (task string, payload []byte, err error) {
	if len(body) < 2 {
		return "", nil, errors.New("worker: run frame too short")
	}
	n := int(binary.BigEndian.Uint16(body))
	if len(body) < 2+n {
		return "", nil, errors.New("worker: run frame shorter than its task name")
	}
	return string(body[2 : 2+n]), body[2+n:], nil
}

// failBody returns the body of a kindFail frame.
func failBody(code Code, msg string, stack []byte) [][]byte {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(msg)))
	return [][]byte{{byte(code)}, n[:], []byte(msg), stack}
}

// parseFail splits a kindFail body into its code, message and stack.
func parseFail(body []byte) (code Code, msg string, stack []byte, err error) {
	if len(body) < 5 {
		return 0, "", nil, errors.New("worker: fail frame too short")
	}
	n := int(binary.BigEndian.Uint32(body[1:]))
	if n > len(body)-5 {
		return 0, "", nil, errors.New("worker: fail frame shorter than its message")
	}
	return Code(body[0]), string(body[5 : 5+n]), body[5+n:], nil
}
