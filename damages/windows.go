package damages

import (
	"fmt"
	"sort"
)

// Problem is one thing wrong with a piece of input, located by a path relative to it
// ("[3].end", "consolation.kakaotalk.cap_krw"). Code is one of the stable validation codes.
type Problem struct {
	Path   string
	Code   string
	Params map[string]string
}

// Catalog tells which services and features a case has.
type Catalog interface {
	HasService(service string) bool
	HasFeature(service, feature string) bool
}

// ValidateWindows checks a full replacement set of windows: each has a known service and
// feature, a known severity, a start before its end; and no two windows of one service and
// feature overlap (half-open, so one may start exactly where another ends).
func ValidateWindows(ws []Window, cat Catalog) []Problem {
	var out []Problem
	bad := make(map[int]bool)
	at := func(i int, field string) string { return fmt.Sprintf("[%d].%s", i, field) }
	for i, w := range ws {
		before := len(out)
		switch {
		case w.Service == "":
			out = append(out, Problem{Path: at(i, "service"), Code: "required"})
		case !cat.HasService(w.Service):
			out = append(out, Problem{Path: at(i, "service"), Code: "unknown_service", Params: map[string]string{"value": w.Service}})
		case w.Feature == "":
			out = append(out, Problem{Path: at(i, "feature"), Code: "required"})
		case !cat.HasFeature(w.Service, w.Feature):
			out = append(out, Problem{Path: at(i, "feature"), Code: "unknown_feature", Params: map[string]string{"value": w.Feature}})
		}
		if w.Severity != Down && w.Severity != Degraded {
			out = append(out, Problem{Path: at(i, "severity"), Code: "invalid_value", Params: map[string]string{"allowed": "down, degraded"}})
		}
		if w.Start.IsZero() {
			out = append(out, Problem{Path: at(i, "start"), Code: "required"})
		}
		if w.End.IsZero() {
			out = append(out, Problem{Path: at(i, "end"), Code: "required"})
		} else if !w.Start.IsZero() && !w.End.After(w.Start) {
			out = append(out, Problem{Path: at(i, "end"), Code: "end_before_start"})
		}
		bad[i] = len(out) > before
	}
	// Overlaps are checked among the windows that are well-formed on their own, so one request
	// learns of both kinds of problem.
	var idx []int
	for i := range ws {
		if !bad[i] {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return out
	}
	sort.SliceStable(idx, func(a, b int) bool {
		wa, wb := ws[idx[a]], ws[idx[b]]
		if wa.Service != wb.Service {
			return wa.Service < wb.Service
		}
		if wa.Feature != wb.Feature {
			return wa.Feature < wb.Feature
		}
		return wa.Start.Before(wb.Start)
	})
	// Compare each window with the one of its group that reaches furthest so far, not only
	// with its predecessor: a long window can overlap several later, shorter ones.
	reach := idx[0]
	for k := 1; k < len(idx); k++ {
		far, cur := ws[reach], ws[idx[k]]
		if far.Service != cur.Service || far.Feature != cur.Feature {
			reach = idx[k]
			continue
		}
		if cur.Start.Before(far.End) {
			out = append(out, Problem{Path: at(idx[k], "start"), Code: "window_overlap",
				Params: map[string]string{"other": fmt.Sprintf("[%d]", reach)}})
		}
		if cur.End.After(far.End) {
			reach = idx[k]
		}
	}
	return out
}
