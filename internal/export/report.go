package export

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
)

// Report is the case in a few pages: what the PDF and the printable HTML show.
type Report struct {
	Lang      messages.Lang
	Title     string
	CaseName  string
	Slug      string
	TimeZone  string
	Generated string

	Windows     []ReportWindow
	Methodology []string // paragraphs, in words
	RulesLine   string

	Headline  []Figure
	ByService []Breakdown
	ByKind    []Breakdown
	Benchmark []Figure
	Quality   []Figure
	Charts    []Chart

	// Review counts for the lawyers' dashboard (not printed): claims per status, distinct
	// claimants, and deficient claims whose cure deadline falls in the seven days from the
	// report's time.
	ByStatus     map[string]int64
	Claimants    int64
	DeficientDue int64
}

// ReportWindow is one row of the windows table.
type ReportWindow struct {
	Service, Feature, Severity, Start, End, Confidence, Source string
}

// Figure is a labelled number.
type Figure struct {
	Label string
	Value string
}

// Breakdown is one row of the per-service or per-kind table.
type Breakdown struct {
	Name                              string
	Items, Eligible                   string
	Principal, Interest, Total, Share string
}

// T returns the report's text for key.
func (r *Report) T(key string) string { return messages.Text(r.Lang, "report_"+key, nil) }

// ReportData is the case report's figures before they are put into words: what the
// database and the valuation pass (claims.ValueCase) gave, in no language. GatherReport makes
// it, Render turns it into a Report in one language; ReportCache keeps one per case and
// revision and renders it for each language, so a second language costs no second pass.
//
// Its fields are unexported because one ReportData is shared by concurrent requests: nothing
// changes it after GatherReport returns (Render only reads it).
type ReportData struct {
	cs  *store.Case
	now time.Time

	// The active rules, and the valuation date they were applied at.
	rulesVersion int
	rulesBy      string
	rulesAt      time.Time
	rules        damages.Rules
	asOf         string

	// The valuation's totals and the database's counts.
	totals       damages.Totals
	byStatus     map[string]int64
	claimants    int64
	deficientDue int64
	flagged      int64

	// The charts' series.
	services      []string // slugs, in the case's order
	svcIndex      map[string]int
	hourStart     time.Time
	hours         int
	perHour       [][]int64 // per service, items per hour from hourStart
	days          []string  // the days of the daily chart, 2006-01-02
	perDayChannel [][]int64 // per channel (reportChannels), claims per day of days
	tiers         []damages.BenchmarkTier
	itemsPerTier  []int64 // per tier, the last bucket is individual review
	schemePerTier []int64
	oursPerTier   []int64
}

// reportChannels are the channels of the daily chart, in the order of its series.
var reportChannels = []string{claims.ChannelWeb, claims.ChannelAPI, claims.ChannelImport}

// BuildReport is the case report in lang: GatherReport, then Render.
func BuildReport(ctx context.Context, st *store.Store, svc *claims.Service, cs *store.Case, now time.Time, lang messages.Lang) (*Report, error) {
	d, err := GatherReport(ctx, st, svc, cs, now)
	if err != nil {
		return nil, err
	}
	return d.Render(lang), nil
}

// GatherReport values every claim of the case under the active rules (claims.ValueCase, the
// pass the summary makes) and gathers what the report shows; what needs no valuation (claims
// per status and per day, claimants) the database aggregates meanwhile. Memory holds
// aggregates only. The valuation stays in Go, not SQL: the methodology has one copy (damages),
// and the stored amounts may be of older rules or another date.
func GatherReport(ctx context.Context, st *store.Store, svc *claims.Service, cs *store.Case, now time.Time) (*ReportData, error) {
	rs, err := svc.ActiveRules(ctx, cs)
	if err != nil {
		return nil, err
	}
	loc := cs.Location
	d := &ReportData{cs: cs, now: now, rulesVersion: rs.Version, rulesBy: rs.Model.CreatedBy, rulesAt: rs.Model.CreatedAt, rules: rs.Rules}

	// The span of the incident.
	var first, last time.Time
	for _, w := range cs.Windows {
		if first.IsZero() || w.StartAt.Before(first) {
			first = w.StartAt
		}
		if w.EndAt.After(last) {
			last = w.EndAt
		}
	}

	// One pass over every item: valuation, incidents per hour and benchmark tiers.
	v := svc.Valuer(cs, cs.DomainWindows(), rs.Rules)
	d.asOf = v.AsOf().String()
	hourStart := first.In(loc).Truncate(time.Hour)
	if first.IsZero() {
		hourStart = now
	}
	hours := int(last.Sub(hourStart).Hours()) + 1
	hours = min(max(hours, 1), 24*14)
	d.hourStart, d.hours = hourStart, hours
	services := make([]string, len(cs.Services))
	svcIndex := map[string]int{}
	for i, s := range cs.Services {
		services[i], svcIndex[s.Slug] = s.Slug, i
	}
	d.services, d.svcIndex = services, svcIndex
	perHour := make([][]int64, len(services))
	for i := range perHour {
		perHour[i] = make([]int64, hours)
	}
	d.perHour = perHour
	var tiers []damages.BenchmarkTier
	if rs.Rules.Benchmark != nil {
		tiers = rs.Rules.Benchmark.Tiers
	}
	schemePerTier := make([]int64, len(tiers)+1) // the last bucket is individual review
	oursPerTier := make([]int64, len(tiers)+1)
	itemsPerTier := make([]int64, len(tiers)+1)
	d.tiers, d.schemePerTier, d.oursPerTier, d.itemsPerTier = tiers, schemePerTier, oursPerTier, itemsPerTier
	// The counts do not need the valuation: the database aggregates them while the items
	// stream past (in SQL, so a million items are not read twice).
	var counts struct {
		claimants, deficientDue, flagged int64
		perDay                           []store.SubmissionCount
		err                              error
	}
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		c := &counts
		if c.claimants, c.err = st.CaseClaimants(ctx, cs.ID); c.err != nil {
			return
		}
		if c.deficientDue, c.err = st.DeficientDue(ctx, cs.ID, now, now.Add(7*24*time.Hour)); c.err != nil {
			return
		}
		if c.flagged, c.err = st.FlaggedClaims(ctx, cs.ID); c.err != nil {
			return
		}
		c.perDay, c.err = st.Submissions(ctx, cs.ID, loc)
	}()
	d.totals, err = svc.ValueCase(ctx, cs, v, func(items []damages.Item, cv *damages.ClaimValuation) {
		for i := range items {
			if si, ok := svcIndex[items[i].Service]; ok {
				if h, ok := hourOf(items[i].Period.Start, hourStart, hours); ok {
					perHour[si][h]++
				}
			}
			iv := &cv.Items[i]
			if !iv.Benchmark.Matched {
				continue
			}
			k := len(tiers)
			for j, tr := range tiers {
				if iv.RawLossKRW <= tr.UpToKRW {
					k = j
					break
				}
			}
			itemsPerTier[k]++
			schemePerTier[k] += iv.Benchmark.PayKRW
			oursPerTier[k] += iv.TotalKRW
		}
	})
	if err != nil {
		<-counted
		return nil, err
	}
	<-counted
	if counts.err != nil {
		return nil, counts.err
	}
	d.byStatus = map[string]int64{}
	for _, c := range counts.perDay {
		d.byStatus[c.Status] += c.N
	}
	d.claimants, d.deficientDue, d.flagged = counts.claimants, counts.deficientDue, counts.flagged

	// Claims per day by channel.
	perDay := map[string][]int64{}
	var firstDay, lastDay time.Time
	for _, c := range counts.perDay {
		day, err := time.Parse(time.DateOnly, c.Day)
		if err != nil {
			return nil, err
		}
		if firstDay.IsZero() || day.Before(firstDay) {
			firstDay = day
		}
		if day.After(lastDay) {
			lastDay = day
		}
		if perDay[c.Day] == nil {
			perDay[c.Day] = make([]int64, len(reportChannels))
		}
		if i := slices.Index(reportChannels, c.Channel); i >= 0 {
			perDay[c.Day][i] += c.N
		}
	}
	if !firstDay.IsZero() {
		// At most the last 120 days, so bars stay readable.
		if lastDay.Sub(firstDay) > 120*24*time.Hour {
			firstDay = lastDay.AddDate(0, 0, -120)
		}
		for day := firstDay; !day.After(lastDay); day = day.AddDate(0, 0, 1) {
			d.days = append(d.days, day.Format(time.DateOnly))
		}
	}
	d.perDayChannel = make([][]int64, len(reportChannels))
	for i := range reportChannels {
		vals := make([]int64, len(d.days))
		for j, day := range d.days {
			if perDay[day] != nil {
				vals[j] = perDay[day][i]
			}
		}
		d.perDayChannel[i] = vals
	}
	return d, nil
}

// Render puts the figures into words in lang: titles, labelled figures, the methodology and
// the charts. It reads d and changes nothing in it (d may be rendered concurrently), and the
// Report shares no memory with d that a reader of the Report could change.
func (d *ReportData) Render(lang messages.Lang) *Report {
	cs, loc, totals, rules := d.cs, d.cs.Location, &d.totals, &d.rules
	r := &Report{Lang: lang, Slug: cs.Slug, TimeZone: cs.TimeZone, CaseName: cs.NameKo}
	if lang == messages.En {
		r.CaseName = cs.NameEn
	}
	t := func(k string, kv ...string) string { return messages.TextPairs(lang, "report_"+k, kv...) }
	r.Title = t("title")
	r.Generated = d.now.In(loc).Format("2006-01-02 15:04 MST")

	// Windows table.
	for _, w := range cs.Windows {
		r.Windows = append(r.Windows, ReportWindow{Service: w.Service, Feature: w.Feature, Severity: t("severity_" + w.Severity),
			Start: w.StartAt.In(loc).Format("2006-01-02 15:04"), End: w.EndAt.In(loc).Format("2006-01-02 15:04"),
			Confidence: w.Confidence, Source: w.Source})
	}
	r.ByStatus, r.Claimants, r.DeficientDue = maps.Clone(d.byStatus), d.claimants, d.deficientDue

	// Methodology in words.
	r.RulesLine = t("rules_line", "version", strconv.Itoa(d.rulesVersion), "by", d.rulesBy,
		"at", d.rulesAt.In(loc).Format("2006-01-02 15:04"), "as_of", d.asOf)
	r.Methodology = []string{
		t("method_eligibility", "policy", t("policy_"+string(rules.WindowPolicy))),
		t("method_principal", "documented", pct(rules.EvidenceFactorBPS.Documented), "undocumented", pct(rules.EvidenceFactorBPS.Undocumented),
			"degraded", pct(rules.DegradedFactorBPS), "caps", caps(*rules)),
		t("method_consolation", "list", consolations(rules.Consolation)),
		t("method_interest", "civil", pct(rules.Interest.CivilRateBPS), "litigation", pct(rules.Interest.LitigationRateBPS),
			"served", dateString(rules.Interest.ComplaintServedOn), "as_of", d.asOf),
		t("method_reference"),
	}
	if b := rules.Benchmark; b != nil {
		r.Methodology = append(r.Methodology[:4], t("method_benchmark", "label", b.Label, "tiers", tierList(b.Tiers)), r.Methodology[4])
	}

	won := func(n int64) string { return damages.FormatWon(n) + t("won") }
	ineligible := totals.Items - totals.EligibleItems
	r.Headline = []Figure{
		{t("claims"), damages.FormatWon(totals.Claims)},
		{t("items"), damages.FormatWon(totals.Items)},
		{t("eligible_items"), damages.FormatWon(totals.EligibleItems - totals.DegradedItems)},
		{t("degraded_items"), damages.FormatWon(totals.DegradedItems)},
		{t("ineligible_items"), damages.FormatWon(ineligible)},
		{t("principal"), won(totals.PrincipalKRW)},
		{t("interest"), won(totals.InterestKRW)},
		{t("total"), won(totals.TotalKRW)},
	}
	share := func(n int64) string {
		if totals.TotalKRW == 0 {
			return "0.0%"
		}
		return fmt.Sprintf("%.1f%%", float64(n)*100/float64(totals.TotalKRW))
	}
	for _, s := range cs.Services {
		st, ok := totals.ByService[s.Slug]
		if !ok {
			continue
		}
		name := s.NameKo
		if lang == messages.En {
			name = s.NameEn
		}
		r.ByService = append(r.ByService, Breakdown{Name: name, Items: damages.FormatWon(st.Items), Eligible: damages.FormatWon(st.EligibleItems),
			Principal: damages.FormatWon(st.PrincipalKRW), Interest: damages.FormatWon(st.InterestKRW), Total: damages.FormatWon(st.TotalKRW), Share: share(st.TotalKRW)})
	}
	for _, k := range damages.Kinds() {
		st, ok := totals.ByKind[k]
		if !ok {
			continue
		}
		r.ByKind = append(r.ByKind, Breakdown{Name: t("kind_" + k), Items: damages.FormatWon(st.Items), Eligible: damages.FormatWon(st.EligibleItems),
			Principal: damages.FormatWon(st.PrincipalKRW), Interest: damages.FormatWon(st.InterestKRW), Total: damages.FormatWon(st.TotalKRW), Share: share(st.TotalKRW)})
	}
	b := totals.Benchmark
	label := "-"
	if rules.Benchmark != nil {
		label = rules.Benchmark.Label
	}
	r.Benchmark = []Figure{
		{t("benchmark_scheme"), label},
		{t("benchmark_items"), damages.FormatWon(b.Items)},
		{t("benchmark_priced"), damages.FormatWon(b.Priced)},
		{t("benchmark_scheme_pays"), won(b.SchemeKRW)},
		{t("benchmark_we_claim"), won(b.ClaimedKRW)},
		{t("benchmark_review"), damages.FormatWon(b.Review)},
		{t("benchmark_review_claimed"), won(b.ReviewClaimedKRW)},
	}
	if b.SchemeKRW > 0 {
		r.Benchmark = append(r.Benchmark, Figure{t("benchmark_ratio"), fmt.Sprintf("%.2f×", float64(b.ClaimedKRW)/float64(b.SchemeKRW))})
	}
	r.Quality = []Figure{
		{t("quality_ineligible"), damages.FormatWon(ineligible)},
		{t("quality_deficient"), damages.FormatWon(d.byStatus["deficient"])},
		{t("quality_duplicates"), damages.FormatWon(d.byStatus["duplicate"])},
		{t("quality_withdrawn"), damages.FormatWon(d.byStatus["withdrawn"])},
		{t("quality_flagged"), damages.FormatWon(d.flagged)},
	}

	// Charts. barChart reads the series' values and keeps none of them.
	hourLabels := make([]string, d.hours)
	for i := range hourLabels {
		hourLabels[i] = d.hourStart.Add(time.Duration(i) * time.Hour).In(loc).Format("01-02 15h")
	}
	var hourSeries []Series
	colorOf := map[string]string{}
	for i, s := range d.services {
		colorOf[s] = palette[i%len(palette)]
		hourSeries = append(hourSeries, Series{Name: s, Color: colorOf[s], Values: d.perHour[i]})
	}
	var bands []Band
	for _, w := range cs.Windows {
		op := 0.22
		if w.Severity == string(damages.Degraded) {
			op = 0.09
		}
		bands = append(bands, Band{From: w.StartAt.Sub(d.hourStart).Hours(), To: w.EndAt.Sub(d.hourStart).Hours(),
			Lane: d.svcIndex[w.Service], Lanes: len(d.services), Color: colorOf[w.Service], Opacity: op,
			Title: describeWindow(w.Service, w.Feature, w.Severity, w.StartAt, w.EndAt, loc)})
	}
	r.Charts = append(r.Charts, barChart(t("chart_hourly"), hourLabels, hourSeries, bands, true, damages.FormatWon,
		[]LegendEntry{{Text: t("chart_windows_down"), Fill: "#606060", Opacity: 0.22}, {Text: t("chart_windows_degraded"), Fill: "#606060", Opacity: 0.09}}))

	daySeries := make([]Series, len(reportChannels))
	for i, ch := range reportChannels {
		daySeries[i] = Series{Name: t("channel_" + ch), Color: palette[i], Values: d.perDayChannel[i]}
	}
	dayLabels := make([]string, len(d.days))
	for i, day := range d.days {
		dayLabels[i] = day[5:]
	}
	r.Charts = append(r.Charts, barChart(t("chart_daily"), dayLabels, daySeries, nil, true, damages.FormatWon, nil))

	tiers := d.tiers
	tierLabels := make([]string, len(tiers)+1)
	for i, tr := range tiers {
		tierLabels[i] = "≤ " + damages.FormatWon(tr.UpToKRW) + t("won") + " (" + damages.FormatWon(d.itemsPerTier[i]) + ")"
	}
	tierLabels[len(tiers)] = t("benchmark_review_short") + " (" + damages.FormatWon(d.itemsPerTier[len(tiers)]) + ")"
	r.Charts = append(r.Charts, barChart(t("chart_benchmark"), tierLabels, []Series{
		{Name: t("benchmark_scheme_pays"), Color: palette[1], Values: d.schemePerTier},
		{Name: t("benchmark_we_claim"), Color: palette[0], Values: d.oursPerTier},
	}, nil, false, func(n int64) string { return damages.FormatWon(n) + t("won") }, nil))
	for i, id := range []string{"chart-hourly", "chart-daily", "chart-benchmark"} {
		r.Charts[i].ID = id
	}
	return r
}

func pct(bps *int64) string {
	if bps == nil {
		return "-"
	}
	return strconv.FormatFloat(float64(*bps)/100, 'f', -1, 64) + "%"
}

func dateString(d *damages.Date) string {
	if d == nil {
		return "-"
	}
	return d.String()
}

func caps(r damages.Rules) string {
	var out []string
	for _, k := range damages.Kinds() {
		if v, ok := r.ItemCap(k); ok {
			out = append(out, k+" "+damages.FormatWon(v))
		}
	}
	return joinComma(out)
}

func consolations(m map[string]damages.ConsolationRule) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		c := m[k]
		out = append(out, fmt.Sprintf("%s %s + %s/h ≤ %s", k, damages.FormatWon(c.BaseKRW), damages.FormatWon(c.PerHourKRW), damages.FormatWon(c.Cap())))
	}
	return joinComma(out)
}

func tierList(ts []damages.BenchmarkTier) string {
	var out []string
	for _, t := range ts {
		out = append(out, "≤ "+damages.FormatWon(t.UpToKRW)+" → "+damages.FormatWon(t.PayKRW))
	}
	return joinComma(out)
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += "; "
		}
		out += x
	}
	return out
}

// hourOf is the bar of the hourly chart, of hours bars from hourStart, that instant t falls in;
// false when it falls in none. An item before hourStart is in none: the division alone puts the
// hour before the first bar (a negative duration truncated toward zero) in it.
func hourOf(t, hourStart time.Time, hours int) (int, bool) {
	d := t.Sub(hourStart)
	if d < 0 {
		return 0, false
	}
	h := int(d / time.Hour)
	return h, h < hours
}
