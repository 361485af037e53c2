package loadtest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAggregateTakesMediansAndRanges(t *testing.T) {
	rows := []Row{
		{Strategy: "perconn", Before: 10, During: 1, Kept: 0.1, LongAnswered: true, LongLatency: 3, Errors: 1},
		{Strategy: "perconn", Before: 30, During: 3, KeptMissing: "the long request failed", Errors: 2, Note: "long request failed: x"},
		{Strategy: "perconn", Before: 20, During: 2, Kept: 0.3, LongAnswered: true, LongLatency: 1},
	}
	r := Aggregate(rows)
	assert.Equal(t, 3, r.Runs)
	assert.Equal(t, 20.0, r.Before)
	assert.Equal(t, []float64{10, 30}, r.BeforeRange)
	assert.Equal(t, 2.0, r.During)
	assert.InDelta(t, 0.2, r.Kept, 1e-9, "the median of the runs that have a kept")
	assert.Equal(t, []float64{0.1, 0.3}, r.KeptRange)
	assert.Empty(t, r.KeptMissing)
	assert.Equal(t, 3, r.Errors, "errors add up")
	assert.False(t, r.LongAnswered, "one run's long request failed")
	assert.Equal(t, "long request failed: x", r.Note)
	assert.Equal(t, &Samples{Before: []float64{10, 30, 20}, Kept: []float64{0.1, 0.3}}, r.Samples, "every run, in order")

	one := Aggregate(rows[:1])
	assert.Zero(t, one.Runs, "a row that ran once is that run")
	assert.Nil(t, one.Samples)
}

func TestSignificanceAgainstKnownAnswers(t *testing.T) {
	same := &Samples{Before: []float64{5, 5, 5, 5, 5}, Kept: []float64{.5, .5, .5, .5, .5}}
	assert.False(t, significance(same, same).KeptDiffers(), "identical samples")
	low := &Samples{Before: []float64{1, 2, 3, 4, 5}, Kept: []float64{.1, .2, .3, .4, .5}}
	high := &Samples{Before: []float64{6, 7, 8, 9, 10}, Kept: []float64{.6, .7, .8, .9, 1}}
	s := significance(low, high)
	assert.True(t, s.KeptDiffers(), "disjoint samples of five: p=%v", s.KeptP)
	assert.True(t, s.BeforeDiffers())
	few := significance(&Samples{Before: []float64{1, 2}, Kept: []float64{.1, .2}}, &Samples{Before: []float64{8, 9}, Kept: []float64{.8, .9}})
	assert.False(t, few.KeptDiffers(), "two runs each cannot tell: p=%v", few.KeptP)
	none := significance(low, &Samples{Before: []float64{6, 7, 8, 9, 10}})
	assert.Equal(t, 1.0, none.KeptP, "no kept to compare")

	rows := []Row{
		{Strategy: "perconn", Samples: low},
		{Strategy: "perconn", GIL: 5, Samples: high},
		{Strategy: "loop", Samples: low},
	}
	(&Comparison{Rows: rows}).SetSignificance()
	assert.Nil(t, rows[0].Significance, "the first row is the reference")
	assert.Equal(t, "perconn", rows[1].Significance.Against, "a Python-mode row against its Go row")
	assert.True(t, rows[1].Significance.KeptDiffers())
	assert.Equal(t, "perconn", rows[2].Significance.Against, "a Go row against the first row")
	assert.False(t, rows[2].Significance.KeptDiffers())
}

func TestAggregateTakesTheMediansOfTheWindowsThatWere(t *testing.T) {
	r := Aggregate([]Row{{Strategy: "s", After: 0, NoAfter: true}, {Strategy: "s", After: 9}, {Strategy: "s", NoAfter: true}})
	assert.False(t, r.NoAfter)
	assert.Equal(t, 9.0, r.After, "a run without an after window is not a 0 in the median")
	r = Aggregate([]Row{{Strategy: "s", NoDuring: true, NoAfter: true}, {Strategy: "s", NoDuring: true, NoAfter: true}})
	assert.True(t, r.NoDuring && r.NoAfter)
}

func TestAKneeProbeSaysKeptUpNotKept(t *testing.T) {
	b, err := json.Marshal(KneePoint{Rate: 1000, Achieved: 999, KeptUp: true})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"kept_up":true`)
	assert.NotContains(t, string(b), `"kept"`, "kept is the headline's share of the flow, not a probe's verdict")
}
