package loadtest

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
)

// What a saved file may hold. A file is hostile until checked: every
// reader of saved results (report, diff, merge, the page) reads through
// ReadJSON or ReadComparisonJSON, which refuse what no run can have
// measured, so that nothing downstream indexes, scales or allocates by an
// impossible value.
const (
	// maxSavedRate is the most answers a second any interval may count:
	// far beyond any server and any number of merged generators.
	maxSavedRate = 1e8
	// maxSavedCount bounds every count and size in a saved file.
	maxSavedCount = 1 << 40
	// maxSavedFigure bounds every other figure (rates, shares, bytes).
	maxSavedFigure = 1e15
)

// errNotSaved is the error of JSON that has none of what a saved file has,
// such as {}.
var errNotSaved = errors.New("it has no scenario or no figures, so it is not one that was saved")

// lowest holds the fields that may be below zero, and how far: a CPU
// figure is -1 when unknown; a part's skew is signed; a negative LongAfter
// sends no long request.
var lowest = map[string]float64{"GeneratorCPU": -1, "ServerCPU": -1, "Skew": math.Inf(-1), "LongAfter": math.Inf(-1)}

// checkSaved refuses a Result that no run can have saved.
func (r *Result) checkSaved() error {
	if r.Scenario.Duration <= 0 || r.Start.IsZero() {
		return errNotSaved
	}
	if err := walkFigures(reflect.ValueOf(r).Elem(), "", 0); err != nil {
		return err
	}
	if r.Scenario.Interval <= 0 {
		return fmt.Errorf("scenario.interval is %v; it must be positive", r.Scenario.Interval)
	}
	if !r.End.IsZero() && r.End.Before(r.Start) {
		return fmt.Errorf("end %s is before start %s", r.End.Format(time.RFC3339Nano), r.Start.Format(time.RFC3339Nano))
	}
	if len(r.Intervals) > maxMergedIntervals {
		return fmt.Errorf("it has %d intervals, more than the %d any run has", len(r.Intervals), maxMergedIntervals)
	}
	for i, iv := range r.Intervals {
		d := iv.End.Sub(iv.Start)
		switch {
		case d < 0:
			return fmt.Errorf("intervals[%d] ends before it starts", i)
		case i > 0 && iv.Start.Before(r.Intervals[i-1].Start):
			return fmt.Errorf("intervals[%d] starts before intervals[%d]: intervals must be in order", i, i-1)
		}
		possible := int(d.Seconds()*maxSavedRate) + 1
		if iv.Answers > possible || iv.Errors > possible {
			return fmt.Errorf("intervals[%d] counts %d answers and %d errors in %v, more than any server answers", i, iv.Answers, iv.Errors, d)
		}
	}
	return nil
}

// checkSaved refuses a Comparison that no experiment can have saved.
func (c *Comparison) checkSaved() error {
	if c.Scenario.Duration <= 0 || len(c.Rows) == 0 {
		return errNotSaved
	}
	if err := walkFigures(reflect.ValueOf(c.Rows), "rows", 0); err != nil {
		return err
	}
	for i, res := range c.Results {
		if res == nil {
			return fmt.Errorf("results[%d] is null", i)
		}
		if err := res.checkSaved(); err != nil {
			return fmt.Errorf("results[%d]: %w", i, err)
		}
	}
	return nil
}

// walkFigures walks v and refuses the first number out of its range:
// below low (its field's lowest, or zero), over the bounds above, or not
// finite. path names v as the JSON does.
func walkFigures(v reflect.Value, path string, low float64) error {
	bad := func(x any) error { return fmt.Errorf("%s is %v, which no run measures", path, x) }
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := v.Int()
		if float64(n) < low || n > maxSavedCount {
			if v.Type() == reflect.TypeFor[time.Duration]() {
				return bad(time.Duration(n))
			}
			return bad(n)
		}
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || f < low || f > maxSavedFigure {
			return bad(f)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			return walkFigures(v.Elem(), path, low)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // bytes: a histogram, checked where decoded
		}
		for i := range v.Len() {
			if err := walkFigures(v.Index(i), fmt.Sprintf("%s[%d]", path, i), low); err != nil {
				return err
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := walkFigures(it.Value(), fmt.Sprintf("%s[%v]", path, it.Key()), low); err != nil {
				return err
			}
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return nil
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if path != "" {
				name = path + "." + name
			}
			fieldLow, ok := lowest[f.Name]
			if !ok {
				fieldLow = 0
			}
			if err := walkFigures(v.Field(i), name, fieldLow); err != nil {
				return err
			}
		}
	}
	return nil
}
