package main

import (
	"fmt"
	"net/http"
	"net/textproto"
	"os"
	"strconv"
	"strings"

	"github.com/primetime-lab/primetime/loadtest"
)

// headerValue is -H: a header "Name: value", repeatable, as curl's.
type headerValue struct{ h http.Header }

func (v headerValue) String() string { return "" }

func (headerValue) typeName() string { return "header" }

func (v headerValue) Set(s string) error {
	name, value, found := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !found || name == "" || strings.ContainsAny(name, " \t") {
		return fmt.Errorf("%q is not a header: write it as 'Name: value'", s)
	}
	v.h.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
	return nil
}

// statusesValue is -status: HTTP statuses, comma-separated.
type statusesValue struct{ s *[]int }

func (v statusesValue) String() string {
	if v.s == nil {
		return ""
	}
	var out []string
	for _, s := range *v.s {
		out = append(out, strconv.Itoa(s))
	}
	return strings.Join(out, ",")
}

func (statusesValue) typeName() string { return "statuses" }

func (v statusesValue) Set(s string) error {
	*v.s = (*v.s)[:0]
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 100 || n > 999 {
			return fmt.Errorf("%q is not an HTTP status, such as 200", f)
		}
		*v.s = append(*v.s, n)
	}
	return nil
}

// targetFlags defines load's flags of a request to any HTTP service, and
// returns a function that makes the scenario's Target of them, given the
// small and the long request; nil, with no error, where neither is a URL.
func targetFlags(c *command) func(small, long string) (*loadtest.HTTPTarget, error) {
	header := http.Header{}
	c.Var(headerValue{header}, "H", "with -request and -long as URLs: a `header` of both requests, 'Name: value' (repeatable)")
	body := c.String("body", "", "with -request as a URL: the small request's `body`, or @file for a file's")
	longBody := c.String("long-body", "", "with -long as a URL: the long request's `body`, or @file for a file's")
	var statuses []int
	c.Var(statusesValue{&statuses}, "status", "with URLs: the HTTP `statuses` an answer counts with, comma-separated (default any 2xx)")
	expect := c.String("expect", "", "with URLs: a `regexp` an answer's body must match, in its first MiB")
	insecure := c.Bool("insecure", false, "with https URLs: do not check the service's certificate")
	for field, name := range map[string]string{"Header": "H", "SmallBody": "body", "LongBody": "long-body", "Statuses": "status", "Expect": "expect"} {
		c.field(field, name)
	}
	return func(small, long string) (*loadtest.HTTPTarget, error) {
		s, smallURL := loadtest.ParseHTTPRequest(small)
		l, longURL := loadtest.ParseHTTPRequest(long)
		switch {
		case !smallURL && !longURL:
			for _, name := range []string{"H", "body", "long-body", "status", "expect", "insecure"} {
				if c.set(name) {
					return nil, fmt.Errorf("-%s is for requests given as URLs, and -request and -long are primetime's requests", name)
				}
			}
			return nil, nil
		case !smallURL:
			return nil, fmt.Errorf("-request %q: give the small request as a URL too, as -long is one ('GET http://host:port/path')", small)
		case !longURL:
			return nil, fmt.Errorf("-long %q: give the long request as a URL too, as -request is one ('POST http://host:port/path')", long)
		}
		for _, b := range []struct {
			flag, text string
			to         *string
		}{{"body", *body, &s.Body}, {"long-body", *longBody, &l.Body}} {
			text := b.text
			if file, ok := strings.CutPrefix(text, "@"); ok {
				data, err := os.ReadFile(file)
				if err != nil {
					return nil, fmt.Errorf("-%s: %w", b.flag, err)
				}
				text = string(data)
			}
			*b.to = text
		}
		if len(header) > 0 {
			s.Header, l.Header = header.Clone(), header.Clone()
		}
		return &loadtest.HTTPTarget{Small: s, Long: l, Statuses: statuses, Expect: *expect, Insecure: *insecure}, nil
	}
}
