package loadtest_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/primetime-lab/primetime/loadtest"
)

func TestTheClaimsNameTheRowsThatCheckThem(t *testing.T) {
	java := &loadtest.Comparison{Rows: []loadtest.Row{
		{Strategy: "perconn"}, {Strategy: "perconn", GIL: 5e6}, {Strategy: "perconn", Runtime: "jvm"},
		{Strategy: "perconn", Runtime: "jvm-virtual"}, {Strategy: "loop"},
	}}
	assert.Equal(t, []loadtest.Claim{{Said: loadtest.ClaimJava, Rows: []string{"perconn jvm", "perconn", "perconn jvm-virtual"}}},
		java.LectureClaims(), "the JVM rows and their Go row, once; not Python mode's, nor a strategy without a JVM row")

	assert.Empty(t, (&loadtest.Comparison{Rows: java.Rows[:2], Task: "prime"}).LectureClaims(), "no JVM, no cores, the prime task: no claim")

	cores := &loadtest.Comparison{
		Sweeps: []loadtest.Sweep{{Name: "cpus", Values: []string{"1", "2"}}}, Task: "sha256",
		Rows: []loadtest.Row{{Strategy: "perconn", Point: []loadtest.Setting{{Name: "cpus", Value: "1"}}}},
	}
	claims := cores.LectureClaims()
	require.Len(t, claims, 2)
	assert.Equal(t, loadtest.Claim{Said: loadtest.ClaimCores, Rows: []string{"perconn [cpus=1]"}}, claims[0])
	assert.Equal(t, loadtest.ClaimTask+" (here, the task sha256)", claims[1].Said)

	cores.Claims = claims
	saved, err := json.Marshal(cores)
	require.NoError(t, err)
	assert.Contains(t, string(saved), `"claims":[{"said":"At the end of the day, additional CPU cores do not help because of the GIL.","rows":["perconn [cpus=1]"]}`, "the file names each claim and its rows")
}
