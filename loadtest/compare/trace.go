package compare

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/primetime-lab/primetime/internal/timeline"
	"github.com/primetime-lab/primetime/loadtest"
)

// tracePath returns the file of the timeline of the row labelled label in
// its round, or "" without a TraceDir.
func (x Experiment) tracePath(label string, round int) string {
	if x.TraceDir == "" {
		return ""
	}
	name := TraceFile(label)
	if round > 0 {
		name = strings.TrimSuffix(name, ".json") + fmt.Sprintf("-%d.json", round+1)
	}
	return filepath.Join(x.TraceDir, name)
}

// TraceFile returns the name of the file of a row's timeline in TraceDir:
// its label with spaces as dashes, and ".json".
func TraceFile(label string) string {
	return strings.NewReplacer(" ", "-", "/", "_", ":", "_", "[", "", "]", "").Replace(label) + ".json"
}

// readFigures reads the timeline in path and returns its figures while the
// request long runs.
func readFigures(path, long string) (*loadtest.TraceFigures, error) {
	tr, err := timeline.ReadTraceFile(path)
	if err != nil {
		return nil, err
	}
	figures := tr.Figures(long)
	return &figures, nil
}

// isDir reports whether path is a directory.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
