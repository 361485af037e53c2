package primetime_test

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateAPI = flag.Bool("update-api", false, "rewrite the files of api/ from the code")

// TestTheAPIChangesOnlyOnPurpose checks each public package's exported
// names and signatures against its file in api/, as Go's own api check
// does: a change to the API is a change to that file, made on purpose
// with go test -run TestTheAPI -update-api, and seen in review.
func TestTheAPIChangesOnlyOnPurpose(t *testing.T) {
	dirs := publicPackages(t)
	require.NotEmpty(t, dirs)
	for _, dir := range dirs {
		got := exportedAPI(t, dir)
		file := filepath.Join("api", apiFileName(dir))
		if *updateAPI {
			require.NoError(t, os.MkdirAll("api", 0o755))
			require.NoError(t, os.WriteFile(file, []byte(got), 0o644))
			continue
		}
		want, err := os.ReadFile(file)
		require.NoError(t, err, "package %s has no API file: run go test -run TestTheAPI -update-api .", dir)
		if added, removed := lineDiff(string(want), got); len(added)+len(removed) > 0 {
			msg := fmt.Sprintf("the API of %s changed (if on purpose, run go test -run TestTheAPI -update-api . and commit %s)", dir, file)
			for _, d := range []struct {
				what  string
				lines []string
			}{{"added", added}, {"removed", removed}} {
				if len(d.lines) > 0 {
					msg += "\n" + d.what + ":\n\t" + strings.Join(d.lines, "\n\t")
				}
			}
			t.Error(msg)
		}
	}
	files, err := filepath.Glob(filepath.Join("api", "*.txt"))
	require.NoError(t, err)
	for _, f := range files {
		assert.True(t, slices.ContainsFunc(dirs, func(d string) bool { return apiFileName(d) == filepath.Base(f) }), "%s names no package", f)
	}
}

// lineDiff returns the lines of got that want lacks, and those of want that
// got lacks.
func lineDiff(want, got string) (added, removed []string) {
	lines := func(s string) []string {
		return slices.DeleteFunc(strings.Split(s, "\n"), func(l string) bool { return l == "" })
	}
	w, g := lines(want), lines(got)
	for _, l := range g {
		if !slices.Contains(w, l) {
			added = append(added, l)
		}
	}
	for _, l := range w {
		if !slices.Contains(g, l) {
			removed = append(removed, l)
		}
	}
	return added, removed
}

// publicPackages returns the directories of the module's importable
// packages: not internal, not commands, not test data, not other modules.
func publicPackages(t *testing.T) []string {
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		switch d.Name() {
		case "internal", "cmd", "testdata", "api", "scripts", "docs":
			return filepath.SkipDir
		}
		if strings.HasPrefix(d.Name(), ".") && path != "." {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != "." {
			return filepath.SkipDir // a module of its own (a benchmark's peer)
		}
		if m, _ := filepath.Glob(filepath.Join(path, "*.go")); len(m) > 0 {
			dirs = append(dirs, path)
		}
		return nil
	})
	require.NoError(t, err)
	return dirs
}

// apiFileName names the API file of the package in dir: its import path
// under the module, with "/" as ".".
func apiFileName(dir string) string {
	if dir == "." {
		return "primetime.txt"
	}
	return "primetime." + strings.ReplaceAll(filepath.ToSlash(dir), "/", ".") + ".txt"
}

// exportedAPI lists the exported declarations of the package in dir, one
// per line and sorted: constants, variables, functions, types with their
// exported fields and methods, each with its signature.
func exportedAPI(t *testing.T, dir string) string {
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		files = append(files, f)
	}
	var lines []string
	text := func(n any) string {
		var b bytes.Buffer
		require.NoError(t, printer.Fprint(&b, fset, n))
		return strings.Join(strings.Fields(b.String()), " ")
	}
	for _, f := range files {
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				recv := ""
				if d.Recv != nil {
					recv = "(" + text(d.Recv.List[0].Type) + ") "
					if !ast.IsExported(strings.TrimLeft(text(d.Recv.List[0].Type), "*")) {
						continue
					}
				}
				lines = append(lines, "func "+recv+d.Name.Name+strings.TrimPrefix(text(d.Type), "func"))
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					lines = append(lines, specAPI(d.Tok, spec, text)...)
				}
			}
		}
	}
	slices.Sort(lines)
	return strings.Join(slices.Compact(lines), "\n") + "\n"
}

// specAPI lists the exported names of one declaration.
func specAPI(tok token.Token, spec ast.Spec, text func(any) string) []string {
	var lines []string
	switch s := spec.(type) {
	case *ast.ValueSpec:
		for _, name := range s.Names {
			if !name.IsExported() {
				continue
			}
			line := tok.String() + " " + name.Name
			if s.Type != nil {
				line += " " + text(s.Type)
			}
			lines = append(lines, line)
		}
	case *ast.TypeSpec:
		if !s.Name.IsExported() {
			return nil
		}
		alias := ""
		if s.Assign.IsValid() {
			alias = "= "
		}
		switch ty := s.Type.(type) {
		case *ast.StructType:
			lines = append(lines, "type "+s.Name.Name+" "+alias+"struct")
			for _, f := range ty.Fields.List {
				for _, name := range f.Names {
					if name.IsExported() {
						lines = append(lines, "type "+s.Name.Name+" struct, "+name.Name+" "+text(f.Type))
					}
				}
				if len(f.Names) == 0 {
					lines = append(lines, "type "+s.Name.Name+" struct, embedded "+text(f.Type))
				}
			}
		case *ast.InterfaceType:
			lines = append(lines, "type "+s.Name.Name+" "+alias+"interface")
			for _, m := range ty.Methods.List {
				for _, name := range m.Names {
					lines = append(lines, "type "+s.Name.Name+" interface, "+name.Name+strings.TrimPrefix(text(m.Type), "func"))
				}
				if len(m.Names) == 0 {
					lines = append(lines, "type "+s.Name.Name+" interface, embedded "+text(m.Type))
				}
			}
		default:
			lines = append(lines, "type "+s.Name.Name+" "+alias+text(s.Type))
		}
	}
	return lines
}
