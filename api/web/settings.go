package web

import "time"

// CaseSettings are what counsel decides about a case's public pages.
type CaseSettings struct {
	// FilingDeadline is the last day claims are taken (in the case zone); zero shows "to be
	// announced".
	FilingDeadline time.Time
	// ShowEstimate lets claimants see the estimated amount of their claim on the status page.
	// Off by default: an estimate is not an offer, and counsel decides when to show it.
	ShowEstimate bool
}

// defaults are the settings of the shipped cases.
var defaults = map[string]CaseSettings{
	// TODO(counsel): the filing deadline is a placeholder until the court sets one.
	"kakao-2022": {FilingDeadline: time.Date(2027, 3, 31, 23, 59, 0, 0, Seoul)},
}

// Defaults returns the settings of a case (zero settings for a case without any).
func Defaults(slug string) CaseSettings { return defaults[slug] }
