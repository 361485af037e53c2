package loadtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/primetime-lab/primetime/internal/wire"
)

// An HTTPTarget makes the experiment's small and long requests HTTP
// requests of one's own, to any HTTP/1.1 service: does one heavy request
// starve the light ones? An answer counts when its status is one of
// Statuses (any 2xx if none) and, with Expect, when its body matches; any
// other status is an error answer that names it. Bodies of any size and
// framing are read, and counted, not kept.
type HTTPTarget struct {
	// Small and Long are the requests.
	Small HTTPRequest `json:"small"`
	Long  HTTPRequest `json:"long"`
	// Statuses are the statuses an answer counts with; none means any
	// 2xx.
	Statuses []int `json:"statuses,omitempty"`
	// Expect, if not empty, is a regular expression (package regexp)
	// that an answer's body must match, in its first MiB; an answer that
	// does not is a bad answer.
	Expect string `json:"expect,omitempty"`
	// Insecure skips the check of an https service's certificate.
	Insecure bool `json:"insecure,omitempty"`
}

// An HTTPRequest is one HTTP request, as a client of the service sends it.
type HTTPRequest struct {
	// Method is the request's method; empty means GET.
	Method string `json:"method,omitempty"`
	// URL is the request's absolute URL, http or https.
	URL string `json:"url"`
	// Header holds the request's headers; a Host header names the host
	// the request asks for, as curl's -H does. A saved result keeps their
	// names only, and of Body its length: they may hold credentials.
	Header http.Header `json:"header,omitempty"`
	// Body is the request's body, sent with its Content-Length.
	Body string `json:"body,omitempty"`
}

// savedRequest is an HTTPRequest as a saved result holds it: its headers'
// names and its body's length, never their values, which may be
// credentials.
type savedRequest struct {
	Method    string   `json:"method,omitempty"`
	URL       string   `json:"url"`
	Headers   []string `json:"headers,omitempty"`
	BodyBytes int      `json:"body_bytes,omitempty"`
}

// MarshalJSON writes the request without its headers' values or its body.
func (r HTTPRequest) MarshalJSON() ([]byte, error) {
	saved := savedRequest{Method: r.Method, URL: r.URL, BodyBytes: len(r.Body)}
	for name := range r.Header {
		saved.Headers = append(saved.Headers, name)
	}
	slices.Sort(saved.Headers)
	return json.Marshal(saved)
}

// UnmarshalJSON reads a request as MarshalJSON wrote it: its headers come
// back without values, and its body does not.
func (r *HTTPRequest) UnmarshalJSON(b []byte) error {
	var saved savedRequest
	if err := json.Unmarshal(b, &saved); err != nil {
		return err
	}
	*r = HTTPRequest{Method: saved.Method, URL: saved.URL}
	for _, name := range saved.Headers {
		if r.Header == nil {
			r.Header = http.Header{}
		}
		r.Header[name] = nil
	}
	return nil
}

// ParseHTTPRequest reads a request written as "METHOD URL" or as a URL
// alone (GET), and reports whether s is one: a URL with a scheme.
func ParseHTTPRequest(s string) (HTTPRequest, bool) {
	method, rest, found := strings.Cut(strings.TrimSpace(s), " ")
	if !found {
		method, rest = "", method
	}
	rest = strings.TrimSpace(rest)
	if !strings.Contains(rest, "://") {
		return HTTPRequest{}, false
	}
	return HTTPRequest{Method: method, URL: rest}, true
}

// String writes the request as ParseHTTPRequest reads it: "GET
// http://127.0.0.1:8080/healthz".
func (r HTTPRequest) String() string { return r.method() + " " + r.URL }

func (r HTTPRequest) method() string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

// An endpoint is where one kind of request goes, and how: its address,
// its TLS, its request as sent, and the codec of its answers.
type endpoint struct {
	addr    string
	tls     *tls.Config
	request []byte
	codec   func() wire.ClientCodec
}

// secure returns nc, or for an https endpoint a TLS connection over it
// once its handshake has succeeded; nc is closed if it fails.
func (e endpoint) secure(ctx context.Context, nc net.Conn) (net.Conn, error) {
	if e.tls == nil {
		return nc, nil
	}
	tc := tls.Client(nc, e.tls)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return tc, nil
}

// checkTarget checks sc's Target and sets what it implies: Addr, and
// Small and Long, which name the requests.
func (sc *Scenario) checkTarget() error {
	t := sc.Target
	if sc.Protocol != "" {
		return Fault("Protocol", fmt.Sprintf("{Protocol} %s is the protocol of primetime's own servers; requests given as URLs speak HTTP", sc.Protocol))
	}
	for _, f := range []struct {
		field, body string
		r           HTTPRequest
		label       *string
	}{{"Small", "SmallBody", t.Small, &sc.Small}, {"Long", "LongBody", t.Long, &sc.Long}} {
		u, err := f.r.parse()
		if err != nil {
			return Fault(f.field, fmt.Sprintf("{%s} %q: %v", f.field, f.r.String(), err))
		}
		if *f.label != "" && *f.label != f.r.String() {
			return Fault(f.field, fmt.Sprintf("{%s} %q is not its URL's request %q: leave it empty", f.field, *f.label, f.r.String()))
		}
		*f.label = f.r.String()
		if f.field == "Small" {
			if sc.Addr != "" && sc.Addr != hostPort(u) {
				return Fault("Addr", fmt.Sprintf("{Addr} %s is not the small request's host %s: leave it empty", sc.Addr, hostPort(u)))
			}
			sc.Addr = hostPort(u)
		}
		for name, values := range f.r.Header {
			if name == "" || strings.ContainsAny(name, " \t\r\n:") || slices.ContainsFunc(values, func(v string) bool { return strings.ContainsAny(v, "\r\n") }) {
				return Fault("Header", fmt.Sprintf("{Header} %q: a header is a name without spaces and a value on one line", name))
			}
		}
		if (f.r.Body != "" || f.r.Header.Get("Content-Length") != "") && f.r.Header.Get("Transfer-Encoding") != "" {
			return Fault(f.body, fmt.Sprintf("{%s}: a body is sent with its Content-Length, not a Transfer-Encoding", f.body))
		}
	}
	for _, s := range t.Statuses {
		if s < 100 || s > 999 {
			return Fault("Statuses", fmt.Sprintf("{Statuses}: %d is no HTTP status", s))
		}
	}
	if _, err := regexp.Compile(t.Expect); err != nil {
		return Fault("Expect", fmt.Sprintf("{Expect} %q: %v", t.Expect, err))
	}
	return nil
}

// parse checks the request and returns its URL.
func (r HTTPRequest) parse() (*url.URL, error) {
	if m := r.method(); strings.ContainsFunc(m, func(c rune) bool { return c <= ' ' || c >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, c) }) {
		return nil, fmt.Errorf("method %q is not a token", m)
	}
	u, err := url.Parse(r.URL)
	switch {
	case err != nil:
		return nil, err
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("the scheme %q is neither http nor https", u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("the URL names no host")
	case u.User != nil:
		return nil, fmt.Errorf("the URL holds credentials: send them in a header (-H 'Authorization: ...')")
	}
	return u, nil
}

// hostPort returns the address a URL's requests go to.
func hostPort(u *url.URL) string {
	if port := u.Port(); port != "" {
		return net.JoinHostPort(u.Hostname(), port)
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// endpoint returns the endpoint of a request of a checked target.
func (t *HTTPTarget) endpoint(r HTTPRequest) endpoint {
	u, _ := r.parse() // checked by WithDefaults
	req := &http.Request{Method: r.method(), URL: u, Host: u.Host, Header: r.Header.Clone(), ProtoMajor: 1, ProtoMinor: 1}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if host := req.Header.Get("Host"); host != "" {
		req.Host = host
		req.Header.Del("Host")
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "primetime")
	}
	if r.Body != "" {
		req.ContentLength = int64(len(r.Body))
		req.Body = io.NopCloser(strings.NewReader(r.Body))
	}
	var buf bytes.Buffer
	req.Write(&buf) // to a bytes.Buffer, of a checked request: cannot fail
	e := endpoint{addr: hostPort(u), request: buf.Bytes()}
	if u.Scheme == "https" {
		e.tls = &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: t.Insecure, NextProtos: []string{"http/1.1"}}
	}
	ok := func(status int) bool { return status >= 200 && status < 300 }
	if len(t.Statuses) > 0 {
		ok = func(status int) bool { return slices.Contains(t.Statuses, status) }
	}
	o := wire.TargetOptions{Request: e.request, Head: req.Method == http.MethodHead, OK: ok, Keep: t.Expect != ""}
	e.codec = func() wire.ClientCodec { return wire.NewTargetClient(o) }
	return e
}

// expectCheck returns the check of a target's answers: their body
// matches Expect, or any answer without one.
func (t *HTTPTarget) expectCheck() func(request, answer []byte) error {
	if t.Expect == "" {
		return AnyAnswer
	}
	re := regexp.MustCompile(t.Expect) // checked by WithDefaults
	return func(request, answer []byte) error {
		if !re.Match(answer) {
			return fmt.Errorf("the body does not match %q", t.Expect)
		}
		return nil
	}
}
