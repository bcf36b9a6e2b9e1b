package export

import (
	"context"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
)

// ItemColumns are the columns of the claim items export, in order.
var ItemColumns = []Column{
	{Key: "reference", Kind: Text, Width: 20},
	{Key: "status", Kind: Text, Width: 12},
	{Key: "channel", Kind: Text, Width: 8},
	{Key: "submitted_at", Kind: Time},
	{Key: "claimant_name", Kind: Text, Width: 12},
	{Key: "claimant_email", Kind: Text, Width: 24},
	{Key: "claimant_phone", Kind: Text, Width: 18},
	{Key: "item", Kind: Count},
	{Key: "kind", Kind: Text, Width: 13},
	{Key: "service", Kind: Text, Width: 11},
	{Key: "feature", Kind: Text, Width: 12},
	{Key: "occurred_at", Kind: Time},
	{Key: "ended_at", Kind: Time},
	{Key: "failure", Kind: Text, Width: 15},
	{Key: "purpose", Kind: Text, Width: 10},
	{Key: "expected_fare_krw", Kind: Won},
	{Key: "alternative_cost_krw", Kind: Won},
	{Key: "amount_krw", Kind: Won},
	{Key: "loss_krw", Kind: Won},
	{Key: "documented", Kind: Text, Width: 8},
	{Key: "eligibility", Kind: Text, Width: 16},
	{Key: "eligibility_code", Kind: Text, Width: 20},
	{Key: "window_id", Kind: Count},
	{Key: "window", Kind: Text, Width: 48},
	{Key: "principal_krw", Kind: Won},
	{Key: "interest_krw", Kind: Won},
	{Key: "rules_version", Kind: Count},
	{Key: "valued_as_of", Kind: Date},
	{Key: "flags", Kind: Text, Width: 10},
}

// Result says what an export wrote.
type Result struct {
	Rows         int64
	PrincipalKRW int64
	InterestKRW  int64
}

// Items writes one row per item of the claims f selects.
func Items(ctx context.Context, st *store.Store, cs *store.Case, f store.ExportFilter, w io.Writer, opts Options) (Result, error) {
	opts.Location = cs.Location
	wr, err := NewWriter(w, ItemColumns, messages.Text(opts.Lang, "export_sheet_items", nil), opts)
	if err != nil {
		return Result{}, err
	}
	defer wr.Abort() // stopped early: nothing left behind
	windows := make(map[int64]string, len(cs.Windows))
	for _, win := range cs.Windows {
		windows[win.ID] = describeWindow(win.Service, win.Feature, win.Severity, win.StartAt, win.EndAt, cs.Location)
	}
	var res Result
	cells := make([]Cell, len(ItemColumns))
	// Names repeat on every item of a claim: mask once per claim.
	var lastClaim int64 = -1
	var who contact
	err = st.StreamExportItems(ctx, f, func(r *store.ExportItem) error {
		if err := cancelled(ctx, res.Rows); err != nil {
			return err
		}
		if r.ClaimID != lastClaim {
			lastClaim, who = r.ClaimID, showContact(r.ClaimantName, r.ClaimantEmail, r.ClaimantPhone, opts.Redact)
		}
		clear(cells)
		cells[0].S, cells[1].S, cells[2].S, cells[3].T = r.Reference, r.Status, r.Channel, r.SubmittedAt
		cells[4].S, cells[5].S, cells[6].S = who.name, who.email, who.phone
		cells[7].N = int64(r.Position + 1)
		cells[8].S, cells[9].S, cells[10].S, cells[11].T = r.Kind, r.Service, r.Feature, r.OccurredAt
		if r.EndedAt.Valid {
			cells[12].T = r.EndedAt.Time
		} else {
			cells[12].Null = true
		}
		cells[13].S, cells[14].S = r.Failure, r.Purpose
		cells[15].N, cells[16].N, cells[17].N, cells[18].N = r.ExpectedFareKRW, r.AlternativeCostKRW, r.AmountKRW, r.LossKRW
		cells[19].S = yesNo(r.Documented)
		cells[20].S, cells[21].S = r.Eligibility, r.EligibilityCode
		if r.WindowID.Valid {
			cells[22].N, cells[23].S = r.WindowID.Int64, windows[r.WindowID.Int64]
		} else {
			cells[22].Null, cells[23].Null = true, true
		}
		nullInt(&cells[24], r.PrincipalKRW.Int64, r.PrincipalKRW.Valid)
		nullInt(&cells[25], r.InterestKRW.Int64, r.InterestKRW.Valid)
		nullInt(&cells[26], r.RulesVersion.Int64, r.RulesVersion.Valid)
		if r.ValuedAsOf.Valid {
			cells[27].S = r.ValuedAsOf.String
		} else {
			cells[27].Null = true
		}
		// flags: fraud and review flags arrive with issue 5; the column is there already so
		// spreadsheets built on this export keep working.
		res.Rows++
		opts.progress(res.Rows)
		res.PrincipalKRW += r.PrincipalKRW.Int64
		res.InterestKRW += r.InterestKRW.Int64
		return wr.Row(cells)
	})
	if err != nil {
		return res, err
	}
	return res, wr.Close(summary(cs, opts, "export_kind_items", res.Rows, []SummaryLine{
		{Label: messages.Text(opts.Lang, "export_col_principal_krw", nil), Value: Cell{N: res.PrincipalKRW}, Kind: Won},
		{Label: messages.Text(opts.Lang, "export_col_interest_krw", nil), Value: Cell{N: res.InterestKRW}, Kind: Won},
	}))
}

func nullInt(c *Cell, n int64, valid bool) {
	c.N, c.Null = n, !valid
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// summary is the first sheet of an XLSX export: what it is, of which case, when, which
// filters, how many rows, and its totals.
func summary(cs *store.Case, opts Options, kind string, rows int64, extra []SummaryLine) []SummaryLine {
	t := func(k string) string { return messages.Text(opts.Lang, k, nil) }
	name := cs.NameKo
	if opts.Lang == messages.En {
		name = cs.NameEn
	}
	var filters []string
	for _, k := range slices.Sorted(maps.Keys(opts.Filters)) {
		filters = append(filters, k+"="+opts.Filters[k])
	}
	filterText := strings.Join(filters, ", ")
	if filterText == "" {
		filterText = t("export_filters_none")
	}
	zone, _ := opts.Now.In(cs.Location).Zone()
	out := []SummaryLine{
		{Label: t("export_summary_case"), Value: Cell{S: name + " (" + cs.Slug + ")"}},
		{Label: t("export_summary_export"), Value: Cell{S: t(kind)}},
		{Label: t("export_summary_generated"), Value: Cell{T: opts.Now}, Kind: Time},
		{Label: t("export_summary_zone"), Value: Cell{S: cs.TimeZone + " (" + zone + ")"}},
		{Label: t("export_summary_filters"), Value: Cell{S: filterText}},
		{Label: t("export_summary_redacted"), Value: Cell{S: t("export_bool_" + strconv.FormatBool(opts.Redact))}},
		{Label: t("export_summary_rows"), Value: Cell{N: rows}, Kind: Count},
	}
	return append(out, extra...)
}
