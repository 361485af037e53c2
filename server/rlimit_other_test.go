//go:build !unix

package server_test

import (
	"errors"
	"testing"
)

// raiseFileLimit needs a Unix limit of open files.
func raiseFileLimit(b *testing.B, _ uint64) { b.Skip("needs a Unix limit of open files") }

// limitFiles needs a Unix limit of open files.
func limitFiles(uint64) error { return errors.New("needs a Unix limit of open files") }
