package report

import (
	"fmt"
	"strings"
	"time"
)

// short formats a duration with three significant digits.
func short(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.3gs", d.Seconds())
}

// count formats a rate with thousands separators.
func count(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// rateCell formats a rate, or "-" when it had no window.
func rateCell(f float64, none bool) string {
	if none {
		return "-"
	}
	return count(f)
}

func percent(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }

// kept formats a share kept, or "-" when missing says why there is none.
func kept(f float64, missing string) string {
	if missing != "" {
		return "-"
	}
	return percent(f)
}
