package claims

import (
	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// DecidingWindow is the window to name beside an item's stored eligibility: the window that
// decided it, or for an ineligible item the nearest window of its service and feature (nearest
// true); nil when there is none. windows are the case's (cs.DomainWindows()). The API's claim
// answer and the lawyers' claim page both name windows this way.
func DecidingWindow(cs *store.Case, windows []damages.Window, it *models.ClaimItem) (w *models.OutageWindow, nearest bool) {
	if it.WindowID != nil {
		return windowByID(cs, *it.WindowID), false
	}
	if it.Eligibility == string(damages.Ineligible) {
		if d := Decide(windows, damages.PerFeature, it); d.Nearest != nil {
			return windowByID(cs, d.Nearest.ID), true
		}
	}
	return nil, false
}

func windowByID(cs *store.Case, id int64) *models.OutageWindow {
	for i := range cs.Windows {
		if cs.Windows[i].ID == id {
			return &cs.Windows[i]
		}
	}
	return nil
}

// EligibilityText is the sentence explaining an item's stored eligibility (its code) in l,
// naming the window DecidingWindow gave ("-" when none). Every answer about a claim has one per
// item, and a case has few windows and codes: each sentence is made once per case snapshot.
func EligibilityText(l messages.Lang, cs *store.Case, named *models.OutageWindow, code string) string {
	type key struct {
		lang   messages.Lang
		window *models.OutageWindow // one of cs.Windows, or nil
		code   string
	}
	return cs.Memo(key{l, named, code}, func() any {
		params := map[string]string{"window": "-"}
		if named != nil {
			params["window"] = messages.Window(l, named.Service+"/"+named.Feature, named.Severity, named.StartAt, named.EndAt, cs.Location)
		}
		return messages.Text(l, code, params)
	}).(string)
}
