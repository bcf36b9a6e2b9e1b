// Package damages is the domain of claimdesk: outage windows, eligibility of a claimed incident
// against them, rule sets and the valuation of claims in exact integer won.
//
// The package is pure: standard library only, no I/O, no clock. Callers pass every instant and
// the valuation date in.
package damages

import (
	"sort"
	"time"
)

// Severity says how badly a feature was affected during a window.
type Severity string

const (
	// Down means the feature did not work for anyone.
	Down Severity = "down"
	// Degraded means the feature worked for some users or some functions only.
	Degraded Severity = "degraded"
)

// Window is one outage period of a service feature, half-open: [Start, End).
type Window struct {
	ID       int64
	Service  string
	Feature  string
	Severity Severity
	Start    time.Time
	End      time.Time
	Source   string
}

// Contains reports whether the instant t lies in [Start, End).
func (w Window) Contains(t time.Time) bool {
	return !t.Before(w.Start) && t.Before(w.End)
}

// Period is the time a claimed incident covers: the instant Start when End is zero (or not
// after Start), otherwise the half-open interval [Start, End).
type Period struct {
	Start time.Time
	End   time.Time
}

// IsInstant reports whether the period is a single instant.
func (p Period) IsInstant() bool { return !p.End.After(p.Start) }

// overlap returns how long p and w share. An instant inside w counts as overlapping with
// length zero, so callers must use meets to decide whether they touch at all.
func (p Period) overlap(w Window) time.Duration {
	if p.IsInstant() {
		return 0
	}
	start, end := maxTime(p.Start, w.Start), minTime(p.End, w.End)
	if !start.Before(end) {
		return 0
	}
	return end.Sub(start)
}

// meets reports whether p and w share at least one instant.
func (p Period) meets(w Window) bool {
	if p.IsInstant() {
		return w.Contains(p.Start)
	}
	return p.Start.Before(w.End) && w.Start.Before(p.End)
}

// Status is the eligibility outcome of an item.
type Status string

const (
	Eligible         Status = "eligible"
	EligibleDegraded Status = "eligible_degraded"
	Ineligible       Status = "ineligible"
)

// Decision codes, stable: clients and exports rely on them.
const (
	CodeInDownWindow     = "in_down_window"
	CodeInDegradedWindow = "in_degraded_window"
	CodeOutsideWindows   = "outside_outage_window"
	CodeNoWindows        = "no_outage_window"
)

// Decision is the eligibility of one item with the window that decided it. For an ineligible
// item Window is nil and Nearest names the closest window in time (nil when there is none).
type Decision struct {
	Status  Status
	Code    string
	Window  *Window
	Nearest *Window
}

// Decide checks a period against the windows that apply to it (already selected by policy).
// It is eligible when it meets a down window, eligible_degraded when it meets only degraded
// ones. The deciding window is the one it overlaps most, down before degraded, then the
// earliest start, then the lowest ID, so the outcome never depends on the order of windows.
func Decide(p Period, windows []Window) Decision {
	var best *Window
	var bestOverlap time.Duration
	for i := range windows {
		w := &windows[i]
		if !p.meets(*w) {
			continue
		}
		ov := p.overlap(*w)
		if best == nil || better(w, ov, best, bestOverlap) {
			best, bestOverlap = w, ov
		}
	}
	if best != nil {
		d := Decision{Window: best}
		if best.Severity == Down {
			d.Status, d.Code = Eligible, CodeInDownWindow
		} else {
			d.Status, d.Code = EligibleDegraded, CodeInDegradedWindow
		}
		return d
	}
	d := Decision{Status: Ineligible, Code: CodeOutsideWindows, Nearest: nearest(p, windows)}
	if len(windows) == 0 {
		d.Code = CodeNoWindows
	}
	return d
}

func better(w *Window, ov time.Duration, than *Window, thanOv time.Duration) bool {
	if (w.Severity == Down) != (than.Severity == Down) {
		return w.Severity == Down
	}
	if ov != thanOv {
		return ov > thanOv
	}
	if !w.Start.Equal(than.Start) {
		return w.Start.Before(than.Start)
	}
	return w.ID < than.ID
}

// nearest returns the window whose nearer edge is closest to the period; ties go to the
// earliest start, then the lowest ID, so the answer does not depend on the order of windows.
func nearest(p Period, windows []Window) *Window {
	var best *Window
	var bestGap time.Duration
	for i := range windows {
		w := &windows[i]
		gap := gapBetween(p, *w)
		if best == nil || gap < bestGap || (gap == bestGap && (w.Start.Before(best.Start) ||
			(w.Start.Equal(best.Start) && w.ID < best.ID))) {
			best, bestGap = w, gap
		}
	}
	return best
}

func gapBetween(p Period, w Window) time.Duration {
	end := p.End
	if p.IsInstant() {
		end = p.Start
	}
	if !end.After(w.Start) && !p.Start.Equal(w.Start) {
		return w.Start.Sub(end)
	}
	// The period starts at or after the window's end (the end itself is outside).
	return p.Start.Sub(w.End) + time.Second
}

// Policy says which windows an item is checked against.
type Policy string

const (
	// PerFeature checks an item against the windows of its service and feature.
	PerFeature Policy = "per_feature"
	// PerService checks an item against every window of its service.
	PerService Policy = "per_service"
	// WholeIncident checks every item against one down window spanning all windows of the case.
	WholeIncident Policy = "whole_incident"
)

// Valid reports whether p is a known policy.
func (p Policy) Valid() bool {
	return p == PerFeature || p == PerService || p == WholeIncident
}

// Applicable returns the windows that apply to an item of service and feature under the
// policy, sorted by start. Under WholeIncident it is one synthetic down window (ID 0) from the
// earliest start to the latest end of all windows.
func Applicable(policy Policy, service, feature string, all []Window) []Window {
	var out []Window
	switch policy {
	case WholeIncident:
		if len(all) == 0 {
			return nil
		}
		w := Window{Service: service, Feature: feature, Severity: Down, Start: all[0].Start, End: all[0].End, Source: "whole incident"}
		for _, x := range all[1:] {
			w.Start, w.End = minTime(w.Start, x.Start), maxTime(w.End, x.End)
		}
		return []Window{w}
	case PerService:
		for _, w := range all {
			if w.Service == service {
				out = append(out, w)
			}
		}
	default:
		for _, w := range all {
			if w.Service == service && w.Feature == feature {
				out = append(out, w)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
