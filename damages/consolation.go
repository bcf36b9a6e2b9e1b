package damages

import "time"

// consolationRule is a ConsolationRule as the valuer reads it (a missing cap is 0).
type consolationRule struct{ base, perHour, cap int64 }

// span is a part of an item's period inside one window.
type span struct {
	start, end time.Time
	down       bool
}

// consolationFor is rule 3 for one service of a claim, with its rule 4 interest: base plus
// per hour of outage the claimant lived through, at most the cap. The hours come from the
// service's eligible items that have an end: each period is cut to the windows that apply to
// the item; down seconds are the length of the union of the down parts and degraded seconds
// the length of the union of the degraded parts minus the down union, so overlapping items
// never count twice. Degraded seconds weigh the degraded factor. Interest starts on the
// earliest local date of the service's eligible items.
func (v *Valuer) consolationFor(service string, rule consolationRule, items []Item, vals []ItemValuation) ConsolationValuation {
	// Most claims have a few spans; the array keeps them off the heap.
	var buf [32]span
	spans := buf[:0]
	var start Date
	first := true
	for i := range items {
		it := &items[i]
		if it.Service != service || !vals[i].Eligible() {
			continue
		}
		if d := DateOf(it.Period.Start, v.loc); first || d.Before(start) {
			start, first = d, false
		}
		if it.Period.IsInstant() {
			continue
		}
		for _, w := range v.windowsFor(it.Service, it.Feature) {
			s, e := maxTime(it.Period.Start, w.Start), minTime(it.Period.End, w.End)
			if s.Before(e) {
				spans = append(spans, span{s, e, w.Severity == Down})
			}
		}
	}
	sortSpans(spans)
	downLen := unionLength(spans, true)
	allLen := unionLength(spans, false)

	c := ConsolationValuation{
		Service:         service,
		DownSeconds:     int64(downLen / time.Second),
		DegradedSeconds: int64((allLen - downLen) / time.Second),
	}
	c.PrincipalKRW = consolationAmount(rule, c.DownSeconds, c.DegradedSeconds, v.degraded)
	c.Interest = v.interest(c.PrincipalKRW, start)
	c.InterestKRW = c.Interest.TotalKRW()
	c.TotalKRW = addKRW(c.PrincipalKRW, c.InterestKRW)
	return c
}

// consolationAmount is rule 3's formula:
// min(cap, base + floor(per_hour x (down x 10,000 + degraded x degraded_bps) / (3,600 x 10,000))).
func consolationAmount(rule consolationRule, downSec, degradedSec, degradedBPS int64) int64 {
	weighted := addKRW(mulDiv(downSec, bpsOne, 1), mulDiv(degradedSec, degradedBPS, 1))
	x := addKRW(nonNeg(rule.base), mulDiv(nonNeg(rule.perHour), weighted, 3600*bpsOne))
	return min(x, nonNeg(rule.cap))
}

// sortSpans orders spans by start (insertion sort: a claim has few, and it allocates nothing).
func sortSpans(s []span) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].start.Before(s[j-1].start); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// unionLength is the total length of the union of the spans (only the down ones when
// downOnly), which must be sorted by start: rule 3's "overlapping items never count twice".
func unionLength(spans []span, downOnly bool) time.Duration {
	var total time.Duration
	var cur span
	open := false
	for _, s := range spans {
		if downOnly && !s.down {
			continue
		}
		switch {
		case !open:
			cur, open = s, true
		case !s.start.After(cur.end):
			if s.end.After(cur.end) {
				cur.end = s.end
			}
		default:
			total += cur.end.Sub(cur.start)
			cur = s
		}
	}
	if open {
		total += cur.end.Sub(cur.start)
	}
	return total
}
