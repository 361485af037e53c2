package cpython

import (
	"bufio"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/internal/timeline"
)

func TestTheLecturesServerTracesEachRequestsSteps(t *testing.T) {
	py := python(t)
	for _, text := range []string{"perconn", "loop", "loop+goroutines:2", "procpool:2", "loop+procs:2"} {
		t.Run(text, func(t *testing.T) {
			shape, _ := Shape(describe(t, text))
			path := filepath.Join(t.TempDir(), "trace.json")
			s, err := Start(py, shape, Options{SwitchInterval: 5 * time.Millisecond, Trace: path, Label: text + " cpython", Long: "100"})
			require.NoError(t, err)
			pid := s.Pid()
			c, err := net.Dial("tcp", s.Addr)
			require.NoError(t, err)
			br := bufio.NewReader(c)
			assert.Equal(t, "29", ask(t, c, br, "10"))
			assert.Equal(t, "541", ask(t, c, br, "100"))
			// The script writes its log as it exits, maybe before a
			// thread logs that it sent an answer already read: one more
			// request makes sure of the first two.
			assert.Equal(t, "2", ask(t, c, br, "1"))
			c.Close()
			require.NoError(t, s.Stop())

			tr, err := timeline.ReadTraceFile(path)
			require.NoError(t, err)
			_, anchored := tr.Anchor("100")
			assert.True(t, anchored)
			assert.Equal(t, text+" cpython", tr.Processes[pid])
			spans := map[string][]timeline.TraceEvent{}
			for _, e := range tr.Events {
				spans[e.Cat+" "+e.Arg("request")] = append(spans[e.Cat+" "+e.Arg("request")], e)
			}
			for _, n := range []string{"10", "100"} {
				require.Len(t, spans["request "+n], 1, n)
				require.Len(t, spans["task "+n], 1, n)
				req, task := spans["request "+n][0], spans["task "+n][0]
				assert.True(t, task.TS >= req.TS && task.TS+task.Dur <= req.TS+req.Dur, "%s: computed while it was in the server", n)
				if strings.Contains(text, "proc") {
					assert.NotEqual(t, pid, task.PID, "computed in a worker process")
					assert.Equal(t, "worker", task.Arg("role"))
				} else {
					assert.Equal(t, pid, task.PID)
				}
			}
		})
	}
}
