package export

import (
	"context"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
)

// PlaintiffColumns are the columns of the plaintiff list (원고 목록), in order.
var PlaintiffColumns = []Column{
	{Key: "no", Kind: Count, Width: 7},
	{Key: "claimant_name", Kind: Text, Width: 14},
	{Key: "claimant_email", Kind: Text, Width: 26},
	{Key: "claimant_phone", Kind: Text, Width: 18},
	{Key: "claims", Kind: Count},
	{Key: "items", Kind: Count},
	{Key: "principal_krw", Kind: Won},
	{Key: "interest_krw", Kind: Won},
	{Key: "total_krw", Kind: Won},
	{Key: "consent_at", Kind: Time},
	{Key: "consent_version", Kind: Text, Width: 12},
	{Key: "status", Kind: Text, Width: 20},
}

// ExcludedFromPlaintiffs are the claim statuses that do not make anyone a plaintiff.
var ExcludedFromPlaintiffs = []string{"duplicate", "withdrawn"}

// plaintiff is one claimant merged across claims. Name and contact are the first claim's
// (the first non-empty email and phone); consent is the latest one given.
type plaintiff struct {
	firstClaim     int64
	name           string
	email, phone   string
	claims, items  int64
	principal      int64
	interest       int64
	total          int64
	consentAt      time.Time
	consentVersion string
	statuses       []string
	merged         int32 // index of the plaintiff this one was merged into, or -1
}

// mergePlaintiffs groups claims into claimants: two claims belong to one claimant when they
// share a normalized phone or email, directly or through other claims (union-find over the
// keys). It holds one record per claimant and one map entry per distinct phone and email.
type mergePlaintiffs struct {
	people []plaintiff
	byKey  map[string]int32
}

func (m *mergePlaintiffs) root(i int32) int32 {
	for m.people[i].merged >= 0 {
		next := m.people[i].merged
		if m.people[next].merged >= 0 {
			m.people[i].merged = m.people[next].merged // path halving
		}
		i = next
	}
	return i
}

func (m *mergePlaintiffs) add(c *store.ExportClaim) {
	keys := make([]string, 0, 2)
	if p := strings.TrimSpace(c.ClaimantPhone); p != "" {
		keys = append(keys, "p:"+p)
	}
	if e := strings.ToLower(strings.TrimSpace(c.ClaimantEmail)); e != "" {
		keys = append(keys, "e:"+e)
	}
	at := int32(-1)
	for _, k := range keys {
		if i, ok := m.byKey[k]; ok {
			r := m.root(i)
			if at >= 0 && r != at {
				// c links two claimants: fold the later one into the earlier.
				a, b := min(at, r), max(at, r)
				m.fold(a, b)
				r = a
			}
			at = r
		}
	}
	if at < 0 {
		m.people = append(m.people, plaintiff{firstClaim: c.ID, name: c.ClaimantName, merged: -1})
		at = int32(len(m.people) - 1)
	}
	for _, k := range keys {
		if _, ok := m.byKey[k]; !ok {
			m.byKey[k] = at
		}
	}
	p := &m.people[at]
	if p.email == "" {
		p.email = strings.TrimSpace(c.ClaimantEmail)
	}
	if p.phone == "" {
		p.phone = c.ClaimantPhone
	}
	p.claims++
	p.items += c.Items
	p.principal += c.PrincipalKRW.Int64
	p.interest += c.InterestKRW.Int64
	p.total += c.EstimateKRW.Int64
	if c.ConsentAt.After(p.consentAt) {
		p.consentAt, p.consentVersion = c.ConsentAt, c.ConsentVersion
	}
	if !slices.Contains(p.statuses, c.Status) {
		p.statuses = append(p.statuses, c.Status)
	}
}

// fold merges plaintiff b into a (a came first).
func (m *mergePlaintiffs) fold(a, b int32) {
	pa, pb := &m.people[a], &m.people[b]
	if pa.email == "" {
		pa.email = pb.email
	}
	if pa.phone == "" {
		pa.phone = pb.phone
	}
	pa.claims += pb.claims
	pa.items += pb.items
	pa.principal += pb.principal
	pa.interest += pb.interest
	pa.total += pb.total
	if pb.consentAt.After(pa.consentAt) {
		pa.consentAt, pa.consentVersion = pb.consentAt, pb.consentVersion
	}
	for _, s := range pb.statuses {
		if !slices.Contains(pa.statuses, s) {
			pa.statuses = append(pa.statuses, s)
		}
	}
	*pb = plaintiff{merged: a}
}

// Plaintiffs writes the plaintiff list: one row per claimant of the claims f selects
// (duplicates and withdrawn claims excluded), numbered and sorted by name in Korean
// collation order, then a total row.
func Plaintiffs(ctx context.Context, st *store.Store, cs *store.Case, f store.ExportFilter, w io.Writer, opts Options) (Result, error) {
	opts.Location = cs.Location
	f.ExcludeStatuses = ExcludedFromPlaintiffs
	m := &mergePlaintiffs{byKey: map[string]int32{}}
	var n int64
	err := st.StreamExportClaims(ctx, f, func(c *store.ExportClaim) error {
		n++
		if err := cancelled(ctx, n); err != nil {
			return err
		}
		m.add(c)
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	m.byKey = nil
	people := slices.DeleteFunc(m.people, func(p plaintiff) bool { return p.merged >= 0 })
	sortByName(people)

	wr, err := NewWriter(w, PlaintiffColumns, messages.Text(opts.Lang, "export_sheet_plaintiffs", nil), opts)
	if err != nil {
		return Result{}, err
	}
	cells := make([]Cell, len(PlaintiffColumns))
	var res Result
	var claims, items, total int64
	for i := range people {
		p := &people[i]
		if err := cancelled(ctx, int64(i+1)); err != nil {
			return res, err
		}
		who := showContact(p.name, p.email, p.phone, opts.Redact)
		slices.Sort(p.statuses)
		clear(cells)
		cells[0].N = int64(i + 1)
		cells[1].S, cells[2].S, cells[3].S = who.name, who.email, who.phone
		cells[4].N, cells[5].N = p.claims, p.items
		cells[6].N, cells[7].N, cells[8].N = p.principal, p.interest, p.total
		cells[9].T, cells[10].S, cells[11].S = p.consentAt, p.consentVersion, strings.Join(p.statuses, ", ")
		if err := wr.Row(cells); err != nil {
			return res, err
		}
		res.Rows++
		claims, items = claims+p.claims, items+p.items
		res.PrincipalKRW, res.InterestKRW, total = res.PrincipalKRW+p.principal, res.InterestKRW+p.interest, total+p.total
	}
	clear(cells)
	cells[0].Null = true
	cells[1].S = messages.Text(opts.Lang, "export_total", nil)
	cells[4].N, cells[5].N = claims, items
	cells[6].N, cells[7].N, cells[8].N = res.PrincipalKRW, res.InterestKRW, total
	cells[9].Null = true
	if err := wr.Total(cells); err != nil {
		return res, err
	}
	return res, wr.Close(summary(cs, opts, "export_kind_plaintiffs", res.Rows, []SummaryLine{
		{Label: messages.Text(opts.Lang, "export_col_claims", nil), Value: Cell{N: claims}, Kind: Count},
		{Label: messages.Text(opts.Lang, "export_col_items", nil), Value: Cell{N: items}, Kind: Count},
		{Label: messages.Text(opts.Lang, "export_col_principal_krw", nil), Value: Cell{N: res.PrincipalKRW}, Kind: Won},
		{Label: messages.Text(opts.Lang, "export_col_interest_krw", nil), Value: Cell{N: res.InterestKRW}, Kind: Won},
		{Label: messages.Text(opts.Lang, "export_col_total_krw", nil), Value: Cell{N: total}, Kind: Won},
	}))
}

// sortByName orders plaintiffs by name in Korean collation order (가나다), then by their
// first claim so the order is stable between runs. Sort keys are computed once per person.
func sortByName(people []plaintiff) {
	col := collate.New(language.Korean)
	var buf collate.Buffer
	keys := make([][]byte, len(people))
	for i := range people {
		keys[i] = slices.Clone(col.KeyFromString(&buf, people[i].name))
		buf.Reset()
	}
	idx := make([]int, len(people))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := strings.Compare(string(keys[a]), string(keys[b])); c != 0 {
			return c
		}
		return cmpInt64(people[a].firstClaim, people[b].firstClaim)
	})
	sorted := make([]plaintiff, len(people))
	for i, j := range idx {
		sorted[i] = people[j]
	}
	copy(people, sorted)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
