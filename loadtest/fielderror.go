package loadtest

import (
	"regexp"
)

// A FieldError says what is wrong with a field of a Scenario, or of
// another value of this module's experiments: out of range, or at odds with
// the server (which speaks another protocol, say). Its Text names fields in
// braces, {Duration}, so that a program can name them its own way: the
// command names them by its flags (-duration).
type FieldError struct {
	// Field is the field at fault.
	Field string
	// Text says what is wrong and what to do, with each field it names in
	// braces.
	Text string
}

// Fault returns a FieldError of field with text.
func Fault(field, text string) *FieldError { return &FieldError{Field: field, Text: text} }

var braced = regexp.MustCompile(`\{([A-Za-z]+)\}`)

// Message returns the text with each field named by name.
func (e *FieldError) Message(name func(field string) string) string {
	return braced.ReplaceAllStringFunc(e.Text, func(m string) string { return name(m[1 : len(m)-1]) })
}

// Error returns the text with the fields' own names, after "loadtest: ".
func (e *FieldError) Error() string {
	return "loadtest: " + e.Message(func(field string) string { return field })
}
