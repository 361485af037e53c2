package wire

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// NewHTTPCodec returns the server codec of HTTP/1.1 with keep-alive (and
// HTTP/1.0): GET /?n=10 and GET /prime/10 ask for payload "10". Once a
// request head is complete, net/http parses it (http.ReadRequest) and
// writes the response (http.Response.Write): no HTTP is parsed by hand
// here, only the end of the head found. A head over maxHeader bytes gets
// 431, a body over MaxBody 413, a transfer encoding (chunked) 501, and a
// malformed request 400: each closes the connection. An unknown path gets
// 404, a missing n 400 and a method other than GET 405; the connection
// goes on.
func NewHTTPCodec(maxHeader int) ServerCodec {
	return &httpCodec{maxHeader: maxHeader, major: 1, minor: 1}
}

// headScan is how far a request head in progress has been read: where its
// line in progress starts, how far that line has been searched for its
// end, and whether its request line has been checked.
type headScan struct {
	line, scanned int
	lineChecked   bool
}

type httpCodec struct {
	maxHeader int
	head      headScan // how far the head in progress has been read
	// skip counts the body bytes still to drop, and pending is what the
	// request decodes to once they are gone.
	skip    int64
	pending Decoded
	payload []byte // the payload, copied out of the head

	// The request last decoded: its version, and whether the connection
	// closes after its answer.
	major, minor int
	closeAfter   bool
}

// headReaders are the readers that http.ReadRequest parses heads with.
var headReaders = sync.Pool{New: func() any {
	r := &headReader{}
	r.br = bufio.NewReaderSize(&r.in, 4096)
	return r
}}

type headReader struct {
	in   bytes.Reader
	br   *bufio.Reader
	line []byte // a request line alone, for checkRequestLine
}

func (c *httpCodec) Decode(in []byte, eof bool) (int, Decoded) {
	n := 0
	if c.skip == 0 {
		end, d := c.findHead(in, eof)
		if end == 0 {
			return 0, d
		}
		n = end
		if c.skip == 0 {
			return n, d
		}
		c.pending = d
	}
	k := int(min(c.skip, int64(len(in)-n)))
	c.skip -= int64(k)
	n += k
	if c.skip > 0 {
		return n, Decoded{}
	}
	d := c.pending
	c.pending = Decoded{}
	return n, d
}

// findHead looks for a whole request head at the start of in and decodes
// it. It returns 0 and NeedMore while the head is incomplete, or 0 and a
// refusal that closes the connection; otherwise the head's length and what
// it asks for, with the length of its body in c.skip.
func (c *httpCodec) findHead(in []byte, eof bool) (int, Decoded) {
	c.major, c.minor, c.closeAfter = 1, 1, false
	h := &c.head
	end := 0
	for end == 0 {
		i := bytes.IndexByte(in[h.scanned:], '\n')
		if i < 0 {
			h.scanned = len(in)
			break
		}
		lineEnd := h.scanned + i
		if len(bytes.TrimSuffix(in[h.line:lineEnd], []byte("\r"))) == 0 {
			// The blank line that ends the head, or a blank request
			// line, which net/http refuses as malformed.
			end = lineEnd + 1
		}
		h.line, h.scanned = lineEnd+1, lineEnd+1
		if h.line > c.maxHeader {
			end = 0
			break
		}
	}
	if end == 0 {
		// A malformed request line is refused at once, as net/http does,
		// rather than once the head is complete; a complete head has
		// its request line checked by the parse below. A request line
		// over the limit is refused as such, as it is when its line
		// break has not come yet, whatever it holds.
		if h.line > 0 && !h.lineChecked {
			if first := bytes.IndexByte(in, '\n'); first < c.maxHeader {
				h.lineChecked = true
				if err := checkRequestLine(in[:first]); err != nil {
					*h = headScan{}
					return 0, c.refuse(http.StatusBadRequest, "malformed request: "+err.Error())
				}
			}
		}
		switch {
		case h.line > c.maxHeader || len(in) >= c.maxHeader:
			*h = headScan{}
			return 0, c.refuse(http.StatusRequestHeaderFieldsTooLarge, fmt.Sprintf("request header over the limit of %d bytes", c.maxHeader))
		case eof && len(in) > 0:
			*h = headScan{}
			return 0, c.refuse(http.StatusBadRequest, "malformed request: unexpected EOF")
		}
		return 0, Decoded{}
	}
	*h = headScan{}

	hr := headReaders.Get().(*headReader)
	hr.in.Reset(in[:end])
	hr.br.Reset(&hr.in)
	req, err := http.ReadRequest(hr.br)
	hr.in.Reset(nil)
	hr.br.Reset(&hr.in)
	headReaders.Put(hr)
	if err != nil {
		return 0, c.refuse(http.StatusBadRequest, "malformed request: "+err.Error())
	}
	c.major, c.minor, c.closeAfter = req.ProtoMajor, req.ProtoMinor, req.Close
	if len(req.TransferEncoding) > 0 {
		return 0, c.refuse(http.StatusNotImplemented, fmt.Sprintf("transfer encoding %s is not implemented: send a body of known length (Content-Length), or none", strings.Join(req.TransferEncoding, ", ")))
	}
	if req.ContentLength > MaxBody {
		return 0, c.refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over the limit of %d bytes", MaxBody))
	}
	c.skip = max(req.ContentLength, 0)
	return end, c.route(req)
}

// checkRequestLine has net/http parse a request line alone, and returns
// its error.
func checkRequestLine(line []byte) error {
	hr := headReaders.Get().(*headReader)
	defer headReaders.Put(hr)
	hr.line = append(append(hr.line[:0], bytes.TrimSuffix(line, []byte("\r"))...), "\r\n\r\n"...)
	hr.in.Reset(hr.line)
	hr.br.Reset(&hr.in)
	_, err := http.ReadRequest(hr.br)
	hr.in.Reset(nil)
	hr.br.Reset(&hr.in)
	return err
}

// route says what a well-formed request asks for.
func (c *httpCodec) route(req *http.Request) Decoded {
	if req.Method != http.MethodGet {
		return Decoded{Kind: Refused, Status: http.StatusMethodNotAllowed, Msg: "method " + req.Method + " not allowed: use GET"}
	}
	switch {
	case req.URL.Path == "/":
		q := req.URL.Query()
		if !q.Has("n") {
			return Decoded{Kind: Refused, Status: http.StatusBadRequest, Msg: "missing n: ask GET /?n=10 or GET /prime/10"}
		}
		c.payload = append(c.payload[:0], q.Get("n")...)
	case strings.HasPrefix(req.URL.Path, "/prime/"):
		c.payload = append(c.payload[:0], strings.TrimPrefix(req.URL.Path, "/prime/")...)
	default:
		return Decoded{Kind: Refused, Status: http.StatusNotFound, Msg: "no such path: ask GET /?n=10 or GET /prime/10"}
	}
	return Decoded{Kind: Request, Payload: c.payload}
}

// refuse refuses a request that leaves the connection unusable.
func (c *httpCodec) refuse(status int, msg string) Decoded {
	c.major, c.minor, c.closeAfter = 1, 1, true
	return Decoded{Kind: Refused, Status: status, Msg: msg, Close: true}
}

func (c *httpCodec) AppendAnswer(dst, answer []byte) ([]byte, error) {
	return c.appendResponse(dst, http.StatusOK, answer), nil
}

func (c *httpCodec) AppendError(dst []byte, status int, msg string) []byte {
	return c.appendResponse(dst, status, []byte(msg))
}

// appendResponse appends a text/plain response, written by net/http.
func (c *httpCodec) appendResponse(dst []byte, status int, body []byte) []byte {
	resp := &http.Response{
		StatusCode:    status,
		ProtoMajor:    c.major,
		ProtoMinor:    c.minor,
		Header:        http.Header{"Content-Type": {"text/plain; charset=utf-8"}},
		ContentLength: int64(len(body)),
		Body:          io.NopCloser(bytes.NewReader(body)),
		Close:         c.closeAfter,
	}
	if c.major == 1 && c.minor == 0 && !c.closeAfter {
		// An HTTP/1.0 client keeps the connection only if told.
		resp.Header.Set("Connection", "keep-alive")
	}
	if status == http.StatusMethodNotAllowed {
		resp.Header.Set("Allow", http.MethodGet)
	}
	buf := bytes.NewBuffer(dst)
	resp.Write(buf) // writing to a bytes.Buffer cannot fail
	return buf.Bytes()
}

func (c *httpCodec) CloseAfter() bool { return c.closeAfter }
func (c *httpCodec) BufferSize() int  { return c.maxHeader }
