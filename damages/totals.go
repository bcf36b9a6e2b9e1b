package damages

// Totals accumulates claim valuations for a case report or a simulation (rule 5 summed over
// claims). The zero value is ready to use; it is not safe for concurrent use, so parallel
// workers keep one each and Merge them.
type Totals struct {
	Claims        int64
	Items         int64
	EligibleItems int64
	// DegradedItems counts the eligible items that are eligible_degraded.
	DegradedItems int64
	Consolations  int64
	PrincipalKRW  int64
	InterestKRW   int64
	TotalKRW      int64
	// ByService includes each service's consolation; ByKind covers items only.
	ByService map[string]Subtotal
	ByKind    map[string]Subtotal
	Benchmark BenchmarkTotals
}

// Subtotal is the part of Totals for one service or one item kind. PrincipalKRW includes
// ConsolationPrincipalKRW (always 0 per kind), and InterestKRW the interest on it.
type Subtotal struct {
	Items                   int64
	EligibleItems           int64
	Consolations            int64
	ConsolationPrincipalKRW int64
	PrincipalKRW            int64
	InterestKRW             int64
	TotalKRW                int64
}

// BenchmarkTotals compares the rules with the benchmark scheme over the items it covers
// (eligible items of its kind and purpose). Priced items have a scheme amount; Review items
// are above its last tier. Claimed amounts are what these rules claim for the same items:
// economic principal plus its interest (consolation is per service and not included).
type BenchmarkTotals struct {
	Items            int64
	Priced           int64
	Review           int64
	SchemeKRW        int64
	ClaimedKRW       int64
	ReviewClaimedKRW int64
}

// Add adds one claim's valuation (rule 5).
func (t *Totals) Add(cv ClaimValuation) {
	if t.ByService == nil {
		t.ByService = make(map[string]Subtotal)
	}
	if t.ByKind == nil {
		t.ByKind = make(map[string]Subtotal)
	}
	t.Claims++
	for i := range cv.Items {
		iv := &cv.Items[i]
		t.Items++
		s, k := t.ByService[iv.Service], t.ByKind[iv.Kind]
		s.Items++
		k.Items++
		if iv.Eligible() {
			t.EligibleItems++
			s.EligibleItems++
			k.EligibleItems++
			if iv.Decision.Status == EligibleDegraded {
				t.DegradedItems++
			}
			s.addAmounts(iv.PrincipalKRW, iv.InterestKRW)
			k.addAmounts(iv.PrincipalKRW, iv.InterestKRW)
		}
		t.ByService[iv.Service], t.ByKind[iv.Kind] = s, k
		if b := iv.Benchmark; b.Matched {
			t.Benchmark.Items++
			if b.Review {
				t.Benchmark.Review++
				t.Benchmark.ReviewClaimedKRW = addKRW(t.Benchmark.ReviewClaimedKRW, iv.TotalKRW)
			} else {
				t.Benchmark.Priced++
				t.Benchmark.SchemeKRW = addKRW(t.Benchmark.SchemeKRW, b.PayKRW)
				t.Benchmark.ClaimedKRW = addKRW(t.Benchmark.ClaimedKRW, iv.TotalKRW)
			}
		}
	}
	for i := range cv.Consolations {
		c := &cv.Consolations[i]
		t.Consolations++
		s := t.ByService[c.Service]
		s.Consolations++
		s.ConsolationPrincipalKRW = addKRW(s.ConsolationPrincipalKRW, c.PrincipalKRW)
		s.addAmounts(c.PrincipalKRW, c.InterestKRW)
		t.ByService[c.Service] = s
	}
	t.PrincipalKRW = addKRW(t.PrincipalKRW, cv.PrincipalKRW)
	t.InterestKRW = addKRW(t.InterestKRW, cv.InterestKRW)
	t.TotalKRW = addKRW(t.TotalKRW, cv.TotalKRW)
}

// Merge adds the totals o (of other claims) into t.
func (t *Totals) Merge(o Totals) {
	t.Claims += o.Claims
	t.Items += o.Items
	t.EligibleItems += o.EligibleItems
	t.DegradedItems += o.DegradedItems
	t.Consolations += o.Consolations
	t.PrincipalKRW = addKRW(t.PrincipalKRW, o.PrincipalKRW)
	t.InterestKRW = addKRW(t.InterestKRW, o.InterestKRW)
	t.TotalKRW = addKRW(t.TotalKRW, o.TotalKRW)
	if len(o.ByService) > 0 && t.ByService == nil {
		t.ByService = make(map[string]Subtotal, len(o.ByService))
	}
	for k, s := range o.ByService {
		t.ByService[k] = t.ByService[k].plus(s)
	}
	if len(o.ByKind) > 0 && t.ByKind == nil {
		t.ByKind = make(map[string]Subtotal, len(o.ByKind))
	}
	for k, s := range o.ByKind {
		t.ByKind[k] = t.ByKind[k].plus(s)
	}
	b := &t.Benchmark
	b.Items += o.Benchmark.Items
	b.Priced += o.Benchmark.Priced
	b.Review += o.Benchmark.Review
	b.SchemeKRW = addKRW(b.SchemeKRW, o.Benchmark.SchemeKRW)
	b.ClaimedKRW = addKRW(b.ClaimedKRW, o.Benchmark.ClaimedKRW)
	b.ReviewClaimedKRW = addKRW(b.ReviewClaimedKRW, o.Benchmark.ReviewClaimedKRW)
}

func (s *Subtotal) addAmounts(principal, interest int64) {
	s.PrincipalKRW = addKRW(s.PrincipalKRW, principal)
	s.InterestKRW = addKRW(s.InterestKRW, interest)
	s.TotalKRW = addKRW(s.TotalKRW, addKRW(principal, interest))
}

func (s Subtotal) plus(o Subtotal) Subtotal {
	s.Items += o.Items
	s.EligibleItems += o.EligibleItems
	s.Consolations += o.Consolations
	s.ConsolationPrincipalKRW = addKRW(s.ConsolationPrincipalKRW, o.ConsolationPrincipalKRW)
	s.addAmounts(o.PrincipalKRW, o.InterestKRW)
	return s
}
