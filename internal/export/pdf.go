package export

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// DefaultFontDir holds NanumGothic.ttf and NanumGothicBold.ttf (Debian's fonts-nanum, SIL Open
// Font License, which allows embedding); config's CLAIMDESK_FONT_DIR overrides it.
const DefaultFontDir = "/usr/share/fonts/truetype/nanum"

const (
	pageW, pageH = 210.0, 297.0
	margin       = 15.0
	contentW     = pageW - 2*margin
	family       = "nanum"
)

// WritePDF writes the case report as an A4 PDF with NanumGothic embedded (subset), so Hangul
// renders and can be searched and copied. now stamps the document's creation date. fontDir
// holds the two NanumGothic files; empty means DefaultFontDir.
func WritePDF(w io.Writer, r *Report, now time.Time, fontDir string) error {
	dir := fontDir
	if dir == "" {
		dir = DefaultFontDir
	}
	regular, err := os.ReadFile(filepath.Join(dir, "NanumGothic.ttf"))
	if err != nil {
		return fmt.Errorf("report font: %w (install fonts-nanum or set CLAIMDESK_FONT_DIR)", err)
	}
	bold, err := os.ReadFile(filepath.Join(dir, "NanumGothicBold.ttf"))
	if err != nil {
		return fmt.Errorf("report font: %w (install fonts-nanum or set CLAIMDESK_FONT_DIR)", err)
	}
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCreationDate(now)
	p.SetModificationDate(now)
	p.SetTitle(r.Title+" — "+r.CaseName, true)
	p.SetCreator("claimdesk", true)
	p.AddUTF8FontFromBytes(family, "", regular)
	p.AddUTF8FontFromBytes(family, "B", bold)
	p.SetMargins(margin, margin, margin)
	p.SetAutoPageBreak(true, margin)
	p.AliasNbPages("{nb}")
	p.SetFooterFunc(func() {
		p.SetY(-10)
		p.SetFont(family, "", 8)
		p.SetTextColor(100, 100, 100)
		p.CellFormat(0, 5, r.Slug+" · "+r.Generated+" · "+strconv.Itoa(p.PageNo())+"/{nb}", "", 0, "C", false, 0, "")
		p.SetTextColor(0, 0, 0)
	})
	pw := &pdfWriter{p: p, r: r}
	pw.document()
	if err := p.Error(); err != nil {
		return err
	}
	return p.Output(w)
}

type pdfWriter struct {
	p *fpdf.Fpdf
	r *Report
}

func (pw *pdfWriter) document() {
	p, r := pw.p, pw.r
	p.AddPage()
	p.SetFont(family, "B", 18)
	p.MultiCell(0, 9, r.Title, "", "L", false)
	p.SetFont(family, "", 11)
	p.MultiCell(0, 6, r.CaseName+" ("+r.Slug+")", "", "L", false)
	p.SetFont(family, "", 9)
	p.SetTextColor(70, 70, 70)
	p.MultiCell(0, 5, r.T("generated")+": "+r.Generated+" · "+r.RulesLine, "", "L", false)
	p.SetTextColor(0, 0, 0)

	pw.heading(r.T("section_headline"))
	pw.figures(r.Headline)

	pw.heading(r.T("section_windows"))
	pw.paragraph(r.T("windows_intro"))
	pw.windows()

	pw.heading(r.T("section_methodology"))
	p.SetFont(family, "B", 9.5)
	p.MultiCell(0, 5, r.RulesLine, "", "L", false)
	for _, para := range r.Methodology {
		pw.paragraph(para)
	}

	pw.heading(r.T("section_charts"))
	for i := range r.Charts {
		pw.chart(&r.Charts[i])
	}

	pw.heading(r.T("section_by_service"))
	pw.breakdown(r.ByService)
	pw.heading(r.T("section_by_kind"))
	pw.breakdown(r.ByKind)
	pw.heading(r.T("section_benchmark"))
	pw.figures(r.Benchmark)
	pw.heading(r.T("section_quality"))
	pw.figures(r.Quality)
}

// room starts a new page unless h millimetres fit on this one.
func (pw *pdfWriter) room(h float64) {
	if pw.p.GetY()+h > pageH-margin {
		pw.p.AddPage()
	}
}

func (pw *pdfWriter) heading(s string) {
	p := pw.p
	pw.room(22)
	p.Ln(4)
	p.SetFont(family, "B", 13)
	p.SetTextColor(47, 79, 127)
	p.CellFormat(0, 8, s, "B", 1, "L", false, 0, "")
	p.SetTextColor(0, 0, 0)
	p.Ln(2)
}

func (pw *pdfWriter) paragraph(s string) {
	pw.p.SetFont(family, "", 9.5)
	pw.p.MultiCell(0, 5, s, "", "L", false)
	pw.p.Ln(1)
}

func (pw *pdfWriter) figures(fs []Figure) {
	p := pw.p
	p.SetFont(family, "", 10)
	for _, f := range fs {
		pw.room(6)
		p.SetFont(family, "B", 10)
		p.CellFormat(90, 6, f.Label, "B", 0, "L", false, 0, "")
		p.SetFont(family, "", 10)
		p.CellFormat(contentW-90, 6, f.Value, "B", 1, "R", false, 0, "")
	}
}

func (pw *pdfWriter) header(widths []float64, titles []string) {
	p := pw.p
	p.SetFont(family, "B", 8.5)
	p.SetFillColor(47, 79, 127)
	p.SetTextColor(255, 255, 255)
	for i, t := range titles {
		p.CellFormat(widths[i], 6, t, "1", 0, "L", true, 0, "")
	}
	p.Ln(-1)
	p.SetTextColor(0, 0, 0)
	p.SetFont(family, "", 8.5)
}

// windows draws the windows table: one line per window, its source on the line below.
func (pw *pdfWriter) windows() {
	p, r := pw.p, pw.r
	widths := []float64{26, 34, 20, 32, 32, 36}
	titles := []string{r.T("col_service"), r.T("col_feature"), r.T("col_severity"), r.T("col_start"), r.T("col_end"), r.T("col_confidence")}
	pw.header(widths, titles)
	for _, w := range r.Windows {
		pw.room(12)
		for i, v := range []string{w.Service, w.Feature, w.Severity, w.Start, w.End, w.Confidence} {
			p.CellFormat(widths[i], 5.5, v, "LTR", 0, "L", false, 0, "")
		}
		p.Ln(-1)
		p.SetFont(family, "", 7.5)
		p.SetTextColor(70, 70, 70)
		p.MultiCell(contentW, 4.2, r.T("col_source")+": "+w.Source, "LBR", "L", false)
		p.SetTextColor(0, 0, 0)
		p.SetFont(family, "", 8.5)
	}
}

func (pw *pdfWriter) breakdown(rows []Breakdown) {
	p, r := pw.p, pw.r
	widths := []float64{40, 18, 20, 28, 26, 28, 20}
	pw.header(widths, []string{r.T("col_name"), r.T("col_items"), r.T("col_eligible"), r.T("col_principal"), r.T("col_interest"), r.T("col_total"), r.T("col_share")})
	for _, b := range rows {
		pw.room(6)
		for i, v := range []string{b.Name, b.Items, b.Eligible, b.Principal, b.Interest, b.Total, b.Share} {
			align := "R"
			if i == 0 {
				align = "L"
			}
			p.CellFormat(widths[i], 5.5, v, "1", 0, align, false, 0, "")
		}
		p.Ln(-1)
	}
}

// chart draws a laid-out chart with fpdf primitives, scaled to the content width.
func (pw *pdfWriter) chart(c *Chart) {
	p := pw.p
	s := contentW / c.Width
	h := c.Height * s
	pw.room(h + 10)
	p.SetFont(family, "B", 10)
	p.MultiCell(0, 6, c.Title, "", "L", false)
	x0, y0 := margin, p.GetY()
	for _, rc := range c.Rects {
		rr, gg, bb := hexColor(rc.Fill)
		p.SetFillColor(rr, gg, bb)
		if rc.Opacity < 1 {
			p.SetAlpha(rc.Opacity, "Normal")
		}
		p.Rect(x0+rc.X*s, y0+rc.Y*s, rc.W*s, rc.H*s, "F")
		if rc.Opacity < 1 {
			p.SetAlpha(1, "Normal")
		}
	}
	for _, l := range c.Lines {
		rr, gg, bb := hexColor(l.Stroke)
		p.SetDrawColor(rr, gg, bb)
		p.SetLineWidth(l.Width * s)
		p.Line(x0+l.X1*s, y0+l.Y1*s, x0+l.X2*s, y0+l.Y2*s)
	}
	p.SetDrawColor(0, 0, 0)
	p.SetLineWidth(0.2)
	for _, t := range c.Labels {
		// Font size in points: chart units times the scale, millimetres to points.
		p.SetFont(family, "", t.Size*s*72/25.4)
		x := x0 + t.X*s
		switch t.Anchor {
		case "middle":
			x -= p.GetStringWidth(t.Text) / 2
		case "end":
			x -= p.GetStringWidth(t.Text)
		}
		p.Text(x, y0+t.Y*s, t.Text)
	}
	p.SetY(y0 + h + 4)
}

func hexColor(s string) (int, int, int) {
	if len(s) != 7 || s[0] != '#' {
		return 0, 0, 0
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return 0, 0, 0
	}
	return int(v >> 16 & 0xFF), int(v >> 8 & 0xFF), int(v & 0xFF)
}
