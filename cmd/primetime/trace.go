package main

import (
	"io"

	"github.com/primetime-lab/primetime/server"
)

// writeTrace writes srv's trace to name.
func writeTrace(srv *server.Server, name string) error {
	return writeFile(name, func(w io.Writer) error { return srv.WriteTrace(w) })
}
