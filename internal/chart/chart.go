// Package chart holds what every page of the module draws with: uPlot,
// the charting library, vendored here and written inline so that a page is
// one file that works offline, and the palette of the strategies.
package chart

import _ "embed"

// uPlot's script and style sheet.
var (
	//go:embed uPlot.iife.min.js
	UplotJS string
	//go:embed uPlot.min.css
	UplotCSS string
)

// Palette holds the hues of the strategies in a page, in order: Okabe and
// Ito's, which readers with any common colour blindness tell apart (its
// yellow left out, too pale on white), then darker ones.
var Palette = []string{"#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#000000", "#7f3c8d", "#6d4c41", "#2e7d32"}
