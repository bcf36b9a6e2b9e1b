package export

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"io"
	"strconv"
	"strings"
)

//go:embed templates/report.html.tmpl
var templates embed.FS

type breakdownTable struct {
	R    *Report
	Rows []Breakdown
}

var reportTemplate = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"num":  func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"pair": func(r *Report, rows []Breakdown) breakdownTable { return breakdownTable{r, rows} },
}).ParseFS(templates, "templates/report.html.tmpl"))

// WriteHTML writes the printable HTML report, charts inline as SVG (no scripts, no network).
func WriteHTML(w io.Writer, r *Report) error { return reportTemplate.Execute(w, r) }

// ReportCSP is the Content-Security-Policy of the HTML report: nothing loads from anywhere,
// and the one inline style sheet is allowed by its hash (the charts are inline SVG).
var ReportCSP = func() string {
	b, err := templates.ReadFile("templates/report.html.tmpl")
	if err != nil {
		panic(err)
	}
	_, rest, _ := strings.Cut(string(b), "<style>")
	style, _, _ := strings.Cut(rest, "</style>")
	sum := sha256.Sum256([]byte(style))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}()

// ChartSVG draws one chart of a report as inline SVG, exactly as the HTML report does (the
// lawyers' dashboard shows the same charts).
func ChartSVG(c Chart) (template.HTML, error) {
	var b bytes.Buffer
	if err := reportTemplate.ExecuteTemplate(&b, "chart", c); err != nil {
		return "", err
	}
	// html/template escaped every value of c in its context; the result is safe HTML.
	return template.HTML(b.String()), nil //nolint:gosec
}
