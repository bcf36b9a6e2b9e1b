package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// homePage is the case page.
type homePage struct {
	CaseName string
	Deadline string
	Timeline timeline
	Services []serviceWindows
}

// serviceWindows is a service's windows in plain words.
type serviceWindows struct {
	Name     string
	Features []featureWindows
}

type featureWindows struct {
	Name    string
	Periods []string
}

func (h *handler) home(c *gin.Context) {
	cs, err := h.store.Case(c.Request.Context(), h.caseSlug)
	if err != nil {
		h.failErr(c, err)
		return
	}
	v := h.view(c, "home_title")
	p := homePage{CaseName: caseName(cs, v.Lang), Timeline: buildTimeline(cs, v.Lang)}
	if d := h.settings.FilingDeadline; !d.IsZero() {
		p.Deadline = when(v.Lang, d)
	}
	for _, s := range cs.Services {
		sw := serviceWindows{Name: name(v.Lang, s.NameKo, s.NameEn)}
		for _, f := range s.Features {
			fw := featureWindows{Name: name(v.Lang, f.NameKo, f.NameEn)}
			for _, w := range cs.Windows {
				if w.Service == s.Slug && w.Feature == f.Slug {
					fw.Periods = append(fw.Periods, v.T("period_"+w.Severity, "start", whenShort(v.Lang, w.StartAt), "end", whenShort(v.Lang, w.EndAt)))
				}
			}
			if len(fw.Periods) > 0 {
				sw.Features = append(sw.Features, fw)
			}
		}
		p.Services = append(p.Services, sw)
	}
	v.Page = p
	h.render(c, http.StatusOK, "home", v)
}

func name(l messages.Lang, ko, en string) string {
	if l == messages.En && en != "" {
		return en
	}
	return ko
}

func caseName(cs *store.Case, l messages.Lang) string { return name(l, cs.NameKo, cs.NameEn) }

// timeline is the outage drawn as an SVG, one row per feature with windows, computed here so
// the page needs no script. Coordinates are in the SVG's own units.
type timeline struct {
	Width, Height int
	Label         string
	Rows          []timelineRow
	Ticks         []timelineTick
	AxisY         int
}

type timelineRow struct {
	Y, TextY int
	Label    string
	Bars     []timelineBar
}

type timelineBar struct {
	X, W, Y int
	Class   string
	Title   string
}

type timelineTick struct {
	X     int
	Label string
}

const (
	tlWidth  = 360
	tlLeft   = 8
	tlRight  = 8
	tlRowH   = 38
	tlBarH   = 12
	tlTop    = 8
	tlAxisH  = 30
	tlLabelH = 17
)

func buildTimeline(cs *store.Case, l messages.Lang) timeline {
	t := timeline{Width: tlWidth, Label: messages.Text(l, "timeline_label", nil)}
	if len(cs.Windows) == 0 {
		return t
	}
	start, end := cs.Windows[0].StartAt, cs.Windows[0].EndAt
	for _, w := range cs.Windows {
		if w.StartAt.Before(start) {
			start = w.StartAt
		}
		if w.EndAt.After(end) {
			end = w.EndAt
		}
	}
	// Whole days in the case zone, so the ticks fall on midnights.
	loc := cs.Location
	s := start.In(loc)
	day0 := time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, loc)
	e := end.In(loc)
	dayN := time.Date(e.Year(), e.Month(), e.Day()+1, 0, 0, 0, 0, loc)
	span := dayN.Sub(day0)
	x := func(at time.Time) int {
		return tlLeft + int(float64(tlWidth-tlLeft-tlRight)*float64(at.Sub(day0))/float64(span))
	}
	y := tlTop
	for _, sv := range cs.Services {
		for _, f := range sv.Features {
			var ws []models.OutageWindow
			for _, w := range cs.Windows {
				if w.Service == sv.Slug && w.Feature == f.Slug {
					ws = append(ws, w)
				}
			}
			if len(ws) == 0 {
				continue
			}
			row := timelineRow{Y: y, TextY: y + tlLabelH - 3, Label: name(l, sv.NameKo, sv.NameEn) + " · " + beforeParen(name(l, f.NameKo, f.NameEn))}
			for _, w := range ws {
				bx := x(w.StartAt)
				row.Bars = append(row.Bars, timelineBar{X: bx, W: max(2, x(w.EndAt)-bx), Y: y + tlLabelH + 2, Class: "tl-" + w.Severity,
					Title: messages.Text(l, "severity_"+w.Severity, nil) + ": " + whenShort(l, w.StartAt) + " – " + whenShort(l, w.EndAt)})
			}
			t.Rows = append(t.Rows, row)
			y += tlRowH
		}
	}
	t.AxisY = y + 4
	for d := day0; !d.After(dayN); d = d.AddDate(0, 0, 1) {
		lbl := strconv.Itoa(int(d.Month())) + "/" + strconv.Itoa(d.Day())
		if d.Equal(dayN) {
			lbl = ""
		}
		t.Ticks = append(t.Ticks, timelineTick{X: x(d), Label: lbl})
	}
	t.Height = t.AxisY + tlAxisH
	return t
}

// beforeParen drops a parenthesised detail, so timeline labels fit a phone's width.
func beforeParen(s string) string {
	if i := strings.Index(s, " ("); i > 0 {
		return s[:i]
	}
	return s
}
