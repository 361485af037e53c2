package lab

import (
	_ "embed"
	"html/template"
	"net/http"

	"github.com/primetime-lab/primetime/internal/chart"
)

//go:embed page.html
var pageHTML string

// pageTemplate is the lab's page: one file, its chart library inline, so
// that it works offline.
var pageTemplate = template.Must(template.New("lab").Parse(pageHTML))

// page serves the lab's page.
func (l *Lab) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-src 'self'")
	pageTemplate.Execute(w, map[string]any{
		"UplotJS": template.JS(chart.UplotJS), "UplotCSS": template.CSS(chart.UplotCSS),
		"Palette": chart.Palette, "Accent": template.CSS(chart.Palette[0]),
	})
}
