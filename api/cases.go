package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// CaseSummary is a case in the list.
type CaseSummary struct {
	Slug     string `json:"slug"`
	Name     Names  `json:"name"`
	TimeZone string `json:"time_zone"`
}

// Names is a name in both languages.
type Names struct {
	Ko string `json:"ko"`
	En string `json:"en"`
}

// CaseResponse is a case with its services and windows.
type CaseResponse struct {
	CaseSummary
	Services []ServiceResponse `json:"services"`
	Windows  []WindowResponse  `json:"windows"`
}

// ServiceResponse is a service of a case.
type ServiceResponse struct {
	Slug     string            `json:"slug"`
	Name     Names             `json:"name"`
	Kinds    []string          `json:"kinds"`
	Features []FeatureResponse `json:"features"`
}

// FeatureResponse is a feature of a service.
type FeatureResponse struct {
	Slug string `json:"slug"`
	Name Names  `json:"name"`
}

// WindowResponse is an outage window; times carry the case zone's offset.
type WindowResponse struct {
	ID         int64  `json:"id"`
	Service    string `json:"service"`
	Feature    string `json:"feature"`
	Severity   string `json:"severity"`
	Start      string `json:"start"`
	End        string `json:"end"`
	Source     string `json:"source"`
	Confidence string `json:"confidence,omitempty"`
}

// ReplaceWindowsRequest is the body of PUT /cases/{case}/windows.
type ReplaceWindowsRequest struct {
	Windows []claims.WindowInput `json:"windows"`
}

// ReplaceWindowsResponse says what the replacement re-decided.
type ReplaceWindowsResponse struct {
	ItemsReevaluated   int `json:"items_reevaluated"`
	EligibilityChanged int `json:"eligibility_changed"`
}

func (s *Server) listCases(c *gin.Context) {
	cs, err := s.store.Cases(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	out := make([]CaseSummary, len(cs))
	for i, m := range cs {
		out[i] = CaseSummary{Slug: m.Slug, Name: Names{Ko: m.NameKo, En: m.NameEn}, TimeZone: m.TimeZone}
	}
	c.JSON(http.StatusOK, gin.H{"cases": out})
}

func (s *Server) getCase(c *gin.Context) {
	cs, err := s.claims.Case(c.Request.Context(), c.Param("case"))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, caseResponse(cs))
}

func (s *Server) replaceWindows(c *gin.Context) {
	var req ReplaceWindowsRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if req.Windows == nil {
		// A missing list is a mistake, not a request to delete every window ([] is).
		writeError(c, apperr.Validation([]apperr.FieldError{{Path: "windows", Code: apperr.FieldRequired}}))
		return
	}
	items, changed, err := s.claims.ReplaceWindows(c.Request.Context(), c.Param("case"), req.Windows, actorOf(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, ReplaceWindowsResponse{ItemsReevaluated: items, EligibilityChanged: changed})
}

func caseResponse(cs *store.Case) CaseResponse {
	out := CaseResponse{CaseSummary: CaseSummary{Slug: cs.Slug, Name: Names{Ko: cs.NameKo, En: cs.NameEn}, TimeZone: cs.TimeZone}}
	out.Services = make([]ServiceResponse, len(cs.Services))
	for i, sv := range cs.Services {
		r := ServiceResponse{Slug: sv.Slug, Name: Names{Ko: sv.NameKo, En: sv.NameEn}, Kinds: sv.Kinds, Features: make([]FeatureResponse, len(sv.Features))}
		for j, f := range sv.Features {
			r.Features[j] = FeatureResponse{Slug: f.Slug, Name: Names{Ko: f.NameKo, En: f.NameEn}}
		}
		out.Services[i] = r
	}
	out.Windows = make([]WindowResponse, len(cs.Windows))
	for i := range cs.Windows {
		out.Windows[i] = windowResponse(&cs.Windows[i], cs.Location)
	}
	return out
}

func windowResponse(w *models.OutageWindow, loc *time.Location) WindowResponse {
	return WindowResponse{ID: w.ID, Service: w.Service, Feature: w.Feature, Severity: w.Severity,
		Start: windowTime(w.StartAt, loc), End: windowTime(w.EndAt, loc), Source: w.Source, Confidence: w.Confidence}
}

// windowTime formats a window's edge in RFC 3339 with the case zone's offset and the fraction
// of a second it has (none when whole): windows keep microseconds, and a client that reads the
// windows and sends them back (PUT replaces them all) must not move an edge such as 01:31:00.5.
func windowTime(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.RFC3339Nano) }

// localTime formats an instant in RFC 3339 with the case zone's offset.
func localTime(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.RFC3339) }
