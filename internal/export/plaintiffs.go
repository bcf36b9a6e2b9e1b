package export

import (
	"bytes"
	"context"
	"hash"
	"hash/fnv"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

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

// plaintiff is one claimant merged across claims. Name and contact are the first claim's
// (the first non-empty email and phone); consent is the latest one given. It is kept small:
// a list of a million claimants holds one of these each.
type plaintiff struct {
	firstClaim     int64
	name           string
	email, phone   string
	consentVersion string
	consentAt      int64 // unix microseconds
	claims, items  int64
	principal      int64
	interest       int64
	total          int64
	statuses       uint32 // bit i: statusNames[i]
	merged         int32  // index of the plaintiff this one was folded into, or -1
}

// mergePlaintiffs groups claims into claimants: two claims belong to one claimant when they
// share a normalized phone or email, directly or through other claims (union-find over the
// keys). It holds one record per claimant and one map entry per distinct phone and email.
type mergePlaintiffs struct {
	people []plaintiff
	// byKey maps the 128-bit FNV-1a hash of a normalized phone or email to the claimant
	// who has it: a fixed 20 bytes an entry instead of a string each (a chance collision of
	// two different contacts is about 1 in 10^26 for a million of them).
	byKey       map[contactKey]int32
	hash        hash.Hash
	scratch     []byte
	statusNames []string
	versions    map[string]string // interned consent versions: a handful of distinct values
}

type contactKey [16]byte

func newMerge(capacity int64) *mergePlaintiffs {
	return &mergePlaintiffs{people: make([]plaintiff, 0, capacity), byKey: make(map[contactKey]int32, capacity),
		hash: fnv.New128a(), versions: map[string]string{}}
}

// key hashes a contact with its kind ('p' phone, 'e' email).
func (m *mergePlaintiffs) key(kind byte, value string) contactKey {
	m.scratch = append(append(m.scratch[:0], kind, ':'), value...)
	m.hash.Reset()
	m.hash.Write(m.scratch)
	var k contactKey
	m.hash.Sum(k[:0])
	return k
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

func (m *mergePlaintiffs) statusBit(s string) uint32 {
	for i, n := range m.statusNames {
		if n == s {
			return 1 << i
		}
	}
	if len(m.statusNames) == 32 {
		return 0 // more than 32 statuses: not one of ours
	}
	m.statusNames = append(m.statusNames, s)
	return 1 << (len(m.statusNames) - 1)
}

func (m *mergePlaintiffs) add(c *store.ExportClaim) {
	var keys [2]contactKey
	nk := 0
	if p := strings.TrimSpace(c.ClaimantPhone); p != "" {
		keys[nk], nk = m.key('p', p), nk+1
	}
	if e := strings.ToLower(strings.TrimSpace(c.ClaimantEmail)); e != "" {
		keys[nk], nk = m.key('e', e), nk+1
	}
	at := int32(-1)
	for _, k := range keys[:nk] {
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
	for _, k := range keys[:nk] {
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
	if at := c.ConsentAt.UnixMicro(); at > p.consentAt {
		v, ok := m.versions[c.ConsentVersion]
		if !ok {
			v = strings.Clone(c.ConsentVersion)
			m.versions[v] = v
		}
		p.consentAt, p.consentVersion = at, v
	}
	p.statuses |= m.statusBit(c.Status)
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
	if pb.consentAt > pa.consentAt {
		pa.consentAt, pa.consentVersion = pb.consentAt, pb.consentVersion
	}
	pa.statuses |= pb.statuses
	*pb = plaintiff{merged: a}
}

// statusText lists the statuses in bits, sorted.
func (m *mergePlaintiffs) statusText(bits uint32) string {
	var out []string
	for i, n := range m.statusNames {
		if bits&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// Plaintiffs writes the plaintiff list: one row per claimant of the claims f selects
// (duplicates and withdrawn claims excluded), numbered and sorted by name in Korean
// collation order, then a total row.
func Plaintiffs(ctx context.Context, st *store.Store, cs *store.Case, f store.ExportFilter, w io.Writer, opts Options) (Result, error) {
	opts.Location = cs.Location
	// A claim the case's totals leave out makes no one a plaintiff: the plaintiffs' total is the
	// case's.
	f.ExcludeStatuses = store.ExcludedFromTotals
	// Sized once from a count: growing by doubling would hold up to twice the records.
	count, err := st.CountExportClaims(ctx, f)
	if err != nil {
		return Result{}, err
	}
	m := newMerge(count)
	var n int64
	err = st.StreamExportClaims(ctx, f, func(c *store.ExportClaim) error {
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
	m.byKey = nil // not needed any more: let the collector have it before the sort keys come
	people := slices.DeleteFunc(m.people, func(p plaintiff) bool { return p.merged >= 0 })
	order := sortByName(people)

	wr, err := NewWriter(w, PlaintiffColumns, messages.Text(opts.Lang, "export_sheet_plaintiffs", nil), opts)
	if err != nil {
		return Result{}, err
	}
	defer wr.Abort() // stopped early: nothing left behind
	cells := make([]Cell, len(PlaintiffColumns))
	var res Result
	var claims, items, total int64
	for i, j := range order {
		p := &people[j]
		if err := cancelled(ctx, int64(i+1)); err != nil {
			return res, err
		}
		who := showContact(p.name, p.email, p.phone, opts.Redact)
		clear(cells)
		cells[0].N = int64(i + 1)
		cells[1].S, cells[2].S, cells[3].S = who.name, who.email, who.phone
		cells[4].N, cells[5].N = p.claims, p.items
		cells[6].N, cells[7].N, cells[8].N = p.principal, p.interest, p.total
		cells[9].T, cells[10].S, cells[11].S = time.UnixMicro(p.consentAt), p.consentVersion, m.statusText(p.statuses)
		if err := wr.Row(cells); err != nil {
			return res, err
		}
		res.Rows++
		opts.progress(res.Rows)
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

// sortByName returns the order of plaintiffs by name in Korean collation order (가나다),
// then by first claim so the order is stable between runs. Sort keys (about 80 bytes for a
// Korean name) are computed once per person into fixed blocks: a growing arena would copy
// itself and, for a moment, hold twice its size. Names are given to the collator with their
// Hangul syllables already decomposed (see decomposeHangul).
func sortByName(people []plaintiff) []int32 {
	col := collate.New(language.Korean)
	var buf collate.Buffer
	const blockSize = 1 << 20
	var block []byte
	keys := make([][]byte, len(people))
	var jamo []byte
	for i := range people {
		jamo = decomposeHangul(jamo[:0], people[i].name)
		k := col.Key(&buf, jamo)
		if len(k) > cap(block)-len(block) {
			block = make([]byte, 0, max(blockSize, len(k)))
		}
		start := len(block)
		block = append(block, k...)
		keys[i] = block[start:len(block):len(block)]
		buf.Reset()
	}
	order := make([]int32, len(people))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := bytes.Compare(keys[a], keys[b]); c != 0 {
			return c
		}
		return cmpInt64(people[a].firstClaim, people[b].firstClaim)
	})
	return order
}

// decomposeHangul appends s to dst with each precomposed Hangul syllable replaced by its
// conjoining jamo (the canonical decomposition, Unicode §3.12), other characters as they
// are. The collator decomposes syllables itself, but allocates about half a kilobyte for each
// one; on a million names that garbage, not the list, set the peak memory of the export.
// Canonically equivalent input has the same collation key (TestDecomposeHangul checks).
func decomposeHangul(dst []byte, s string) []byte {
	const (
		sBase, lBase, vBase, tBase = 0xAC00, 0x1100, 0x1161, 0x11A7
		vCount, tCount, sCount     = 21, 28, 11172
	)
	for _, r := range s {
		si := r - sBase
		if si < 0 || si >= sCount {
			dst = utf8.AppendRune(dst, r)
			continue
		}
		dst = utf8.AppendRune(dst, lBase+si/(vCount*tCount))
		dst = utf8.AppendRune(dst, vBase+(si%(vCount*tCount))/tCount)
		if t := si % tCount; t != 0 {
			dst = utf8.AppendRune(dst, tBase+t)
		}
	}
	return dst
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
