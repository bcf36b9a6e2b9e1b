package claims

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// Fraud signal codes. The list is open: a channel may record a signal of its own with
// RecordSignal; these are the ones the detection pass raises.
const (
	SignalIPBurst         = "ip_burst"
	SignalHoneypot        = "honeypot"
	SignalAmountOutlier   = "amount_outlier"
	SignalOutsideWindows  = "outside_windows"
	SignalSameDescription = "same_description"
	SignalSimilarIdentity = "similar_identity"
)

// Rule is the configuration of one fraud signal. Fields that do not apply to a signal are
// ignored.
type Rule struct {
	Weight        int     `json:"weight"`
	Count         int     `json:"count,omitempty"`
	WindowSeconds int     `json:"window_seconds,omitempty"`
	Factor        float64 `json:"factor,omitempty"`
	MinKRW        int64   `json:"min_krw,omitempty"`
	MinLength     int     `json:"min_length,omitempty"`
}

// ReviewConfig holds the thresholds and weights of duplicate detection and fraud signals:
// configuration, not code (CLAIMDESK_REVIEW_CONFIG takes a JSON object over the defaults).
// Cases overrides them for one case (by slug), over the top-level values.
type ReviewConfig struct {
	// DuplicateWindowSeconds is how far apart two items of the same service and feature may
	// be for claims with the same email or phone to be candidate duplicates.
	DuplicateWindowSeconds int                     `json:"duplicate_window_seconds"`
	Signals                map[string]Rule         `json:"signals"`
	Cases                  map[string]ReviewConfig `json:"cases,omitempty"`
}

// DefaultReviewConfig returns the defaults.
func DefaultReviewConfig() ReviewConfig {
	return ReviewConfig{
		DuplicateWindowSeconds: 2 * 3600,
		Signals: map[string]Rule{
			SignalIPBurst:         {Weight: 30, Count: 5, WindowSeconds: 3600},
			SignalHoneypot:        {Weight: 50},
			SignalAmountOutlier:   {Weight: 20, Factor: 10, MinKRW: 100_000},
			SignalOutsideWindows:  {Weight: 10},
			SignalSameDescription: {Weight: 25, MinLength: 20},
			SignalSimilarIdentity: {Weight: 15},
		},
	}
}

// For returns the configuration of a case: its override when it has one.
func (c ReviewConfig) For(caseSlug string) ReviewConfig {
	if o, ok := c.Cases[caseSlug]; ok {
		return o
	}
	return c
}

// ParseReviewConfig reads a JSON object over the defaults: keys given replace the defaults,
// signal by signal; "cases" holds per-case objects read the same way over the result.
func ParseReviewConfig(s string) (ReviewConfig, error) {
	cfg := DefaultReviewConfig()
	if strings.TrimSpace(s) == "" {
		return cfg, nil
	}
	cfg, cases, err := overlayReview(cfg, []byte(s), true)
	if err != nil {
		return cfg, err
	}
	for slug, raw := range cases {
		c, _, err := overlayReview(cfg.clone(), raw, false)
		if err != nil {
			return cfg, fmt.Errorf("review config: case %s: %w", slug, err)
		}
		if cfg.Cases == nil {
			cfg.Cases = map[string]ReviewConfig{}
		}
		cfg.Cases[slug] = c
	}
	return cfg, nil
}

func (c ReviewConfig) clone() ReviewConfig {
	out := ReviewConfig{DuplicateWindowSeconds: c.DuplicateWindowSeconds, Signals: make(map[string]Rule, len(c.Signals))}
	for k, v := range c.Signals {
		out.Signals[k] = v
	}
	return out
}

// maxOutlierFactor bounds an amount_outlier factor: an item median times it stays far inside
// an int64 (medians are at most intake.MaxAmountKRW × 4 fields).
const maxOutlierFactor = 1000

func overlayReview(cfg ReviewConfig, raw []byte, top bool) (ReviewConfig, map[string]json.RawMessage, error) {
	var in struct {
		DuplicateWindowSeconds *int                       `json:"duplicate_window_seconds"`
		Signals                map[string]Rule            `json:"signals"`
		Cases                  map[string]json.RawMessage `json:"cases"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return cfg, nil, fmt.Errorf("review config: %w", err)
	}
	if !top && in.Cases != nil {
		return cfg, nil, fmt.Errorf("review config: cases inside a case")
	}
	if in.DuplicateWindowSeconds != nil {
		if *in.DuplicateWindowSeconds < 0 {
			return cfg, nil, fmt.Errorf("review config: duplicate_window_seconds must not be negative")
		}
		cfg.DuplicateWindowSeconds = *in.DuplicateWindowSeconds
	}
	for k, r := range in.Signals {
		if r.Weight < 0 || r.Count < 0 || r.WindowSeconds < 0 || r.MinKRW < 0 || r.MinLength < 0 {
			return cfg, nil, fmt.Errorf("review config: signal %s: weight, count, window_seconds, min_krw and min_length must not be negative", k)
		}
		// The outlier bound is the median times factor, in won: past maxOutlierFactor it
		// overflows an int64 (a huge factor became the smallest int64 and flagged every item).
		if r.Factor < 0 || r.Factor > maxOutlierFactor {
			return cfg, nil, fmt.Errorf("review config: signal %s: factor must be between 0 and %d", k, maxOutlierFactor)
		}
		cfg.Signals[k] = r
	}
	return cfg, in.Cases, nil
}

func (s *Service) review(ctx context.Context, caseID int64) ReviewConfig {
	cfg := DefaultReviewConfig()
	if s.Review != nil {
		cfg = *s.Review
	}
	if len(cfg.Cases) > 0 {
		if c, err := s.Store.CaseByID(ctx, caseID); err == nil {
			return cfg.For(c.Slug)
		}
	}
	return cfg
}

// afterCreate has duplicate detection and the fraud signals run on a stored claim (see
// QueueReviews).
func (s *Service) afterCreate(ctx context.Context, c *store.Case, cl *models.Claim) {
	s.QueueReviews(ctx, c.ID, []int64{cl.ID})
}

// QueueReviews has duplicate detection and the fraud signals run on stored claims of a case,
// each marked pending in the transaction that stored it. With a Background runner the answer
// does not wait for them: the claims join the queue of the service's one detection worker (see
// detector). Without one, they run now.
func (s *Service) QueueReviews(ctx context.Context, caseID int64, ids []int64) {
	if len(ids) == 0 {
		return
	}
	if s.Background == nil {
		if err := s.detectClaims(context.WithoutCancel(ctx), caseID, ids); err != nil {
			s.reviewError(err)
		}
		return
	}
	rs := make([]store.PendingReview, len(ids))
	for i, id := range ids {
		rs[i] = store.PendingReview{ClaimID: id, CaseID: caseID}
	}
	s.detector.add(s, rs)
}

// ResumeReviews has the detection worker run the passes that were cut short (by a crash, or a
// stop with claims still queued): every claim marked pending in the database, a page at a
// time until none is left. Call it once at start; the worker also sweeps every minute for
// claims it did not queue itself, running or idle (see idleSweep).
func (s *Service) ResumeReviews() {
	if s.Background == nil {
		return
	}
	s.detector.add(s, nil)
}

// Detection batching. One pass over many claims costs about what a pass over one costs (each
// rule is one statement, driven by indexes from the claims in scope), so the worker takes
// what queued up while the previous pass ran, waiting at most detectLinger for more.
const (
	detectBatch     = 500 // claims per pass at most, and per page of a sweep
	detectLinger    = 250 * time.Millisecond
	detectQueueMax  = 100_000     // beyond this, claims wait in the database for the sweep
	detectSweep     = time.Minute // how often pending rows nobody queued are looked for
	detectFlushTime = 15 * time.Second
	detectStats     = time.Second // how often the worker has the store check its statistics
)

// detector is the queue of claims waiting for their detection pass and its worker: at most one
// goroutine, started on demand through Background and gone when the queue is empty. While no
// worker runs, a timer (idleSweep) looks for pending claims every sweep period.
type detector struct {
	mu        sync.Mutex
	queue     []store.PendingReview
	running   bool
	swept     bool // the first sweep (of everything pending) is done
	lastSweep time.Time
	// A sweep reads the pending list a page at a time: cursor is the last claim of the page
	// read (0: no sweep under way), cutoff the time the sweep's claims were pending before
	// (zero: all of them).
	cursor int64
	cutoff time.Time
	due    bool          // the idle timer found claims to sweep, whatever the clock says
	timer  *time.Timer   // the idle timer, while set
	every  time.Duration // the sweep period (zero: detectSweep); tests shorten it
	// when the planner statistics were last looked at (worker only)
	lastStats time.Time
}

func (d *detector) period() time.Duration {
	if d.every > 0 {
		return d.every
	}
	return detectSweep
}

func (d *detector) add(s *Service, rs []store.PendingReview) {
	d.mu.Lock()
	if len(d.queue)+len(rs) <= detectQueueMax {
		d.queue = append(d.queue, rs...)
	}
	start := !d.running
	d.running = true
	d.mu.Unlock()
	if start {
		s.Background(s.runDetector)
	}
}

// take returns the next batch and whether to sweep (the first sweep, the next page of a sweep
// under way, or one due), or nothing when the worker should stop (the queue is empty and no
// sweep is due). A worker stopping (ctx ended) starts no sweep: the next start sweeps.
func (d *detector) take(now time.Time, stopping bool) (batch []store.PendingReview, sweep bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !stopping && (!d.swept || d.cursor != 0 || d.due || now.Sub(d.lastSweep) >= d.period()) {
		sweep = true
	}
	n := min(len(d.queue), detectBatch)
	if n == 0 && !sweep {
		d.running = false
		return nil, false
	}
	batch = append([]store.PendingReview(nil), d.queue[:n]...)
	d.queue = append(d.queue[:0], d.queue[n:]...)
	return batch, sweep
}

// sweepPage starts a sweep or goes on with the one under way, and returns where its next page
// starts: claims pending since before cutoff, after claim after.
func (d *detector) sweepPage(now time.Time) (cutoff time.Time, after int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cursor == 0 {
		d.cutoff, d.due = now.Add(-d.period()), false
		if !d.swept {
			d.cutoff = time.Time{} // at start, everything pending was cut short
		}
	}
	return d.cutoff, d.cursor
}

// sweptPage records the page a sweep read. A full page means more may be pending: the sweep
// goes on from its last claim at the worker's next round. It used to stop there, so that after
// a crash or an overflowing queue the claims beyond the first page waited for new claims to
// wake the worker, and then went a page a minute.
func (d *detector) sweptPage(page []store.PendingReview, err error, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err == nil && len(page) == detectBatch {
		d.cursor = page[len(page)-1].ClaimID
		return
	}
	d.cursor = 0
	d.swept, d.lastSweep = true, now
}

func (d *detector) queued() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.queue)
}

// runDetector is the worker: it runs passes until the queue is empty. When ctx ends (the
// process stops) it still runs the claims already queued, for at most detectFlushTime; what is
// left then stays pending in the database for the next start.
func (s *Service) runDetector(ctx context.Context) {
	d := &s.detector
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(detectFlushTime, cancel) })
	defer stop()
	for first := true; ; first = false {
		if !first && ctx.Err() == nil {
			if q := d.queued(); q > 0 && q < detectBatch {
				select {
				case <-time.After(detectLinger):
				case <-ctx.Done():
				}
			}
		}
		batch, sweep := d.take(s.Now(), ctx.Err() != nil)
		if batch == nil && !sweep {
			s.armIdleSweep(ctx)
			return
		}
		if sweep {
			cutoff, after := d.sweepPage(s.Now())
			pending, err := s.Store.PendingReviewsAfter(work, cutoff, after, detectBatch)
			d.sweptPage(pending, err, s.Now())
			if err != nil {
				s.reviewError(err)
			}
			// Claims left pending pass apart from those just queued: a claim that breaks
			// detection (it stays pending) costs its own pass at each sweep, not the batch's.
			// A claim in both (the first sweep finds everything pending; a queue more than a
			// sweep behind holds what the sweep finds) passes once, with the batch.
			queued := make(map[int64]bool, len(batch))
			for _, r := range batch {
				queued[r.ClaimID] = true
			}
			pending = slices.DeleteFunc(pending, func(r store.PendingReview) bool { return queued[r.ClaimID] })
			if err := s.detectPending(work, pending); err != nil {
				s.reviewError(err)
			}
		}
		if now := s.Now(); now.Sub(d.lastStats) >= detectStats || now.Before(d.lastStats) {
			d.lastStats = now
			if err := s.Store.RefreshStats(work); err != nil {
				s.reviewError(err)
			}
		}
		if err := s.detectPending(work, batch); err != nil {
			s.reviewError(err)
			if work.Err() != nil {
				d.mu.Lock()
				d.running = false
				d.mu.Unlock()
				return
			}
		}
	}
}

// armIdleSweep sets the idle timer as the worker stops (unless the process is stopping, or the
// timer is set already): see idleSweep.
func (s *Service) armIdleSweep(ctx context.Context) {
	if ctx.Err() != nil {
		return // the next start sweeps
	}
	d := &s.detector
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer == nil {
		d.timer = time.AfterFunc(d.period(), func() { s.idleSweep(ctx) })
	}
}

// idleSweep looks for claims a sweep would take, one sweep period after the worker stopped,
// and wakes the worker for them: claims nobody queued (an overflowing queue, a pass that
// failed, another instance stopped for good) are then detected without waiting for a new claim
// to wake the worker. Otherwise it looks again one period later, until ctx ends. The look is
// one query of the pending list (which holds only the claims waiting), and says nothing when
// it fails (the database may be down, or gone with the test that made it): it is tried again
// one period later. Looking first keeps an idle worker from starting for nothing.
func (s *Service) idleSweep(ctx context.Context) {
	d := &s.detector
	d.mu.Lock()
	d.timer = nil
	d.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	look, cancel := context.WithTimeout(ctx, d.period())
	p, err := s.Store.PendingReviews(look, s.Now().Add(-d.period()), 1)
	cancel()
	if err != nil || len(p) == 0 {
		s.armIdleSweep(ctx)
		return
	}
	d.mu.Lock()
	d.due = true
	d.mu.Unlock()
	d.add(s, nil)
}

func (s *Service) reviewError(err error) {
	if s.ReviewError != nil {
		s.ReviewError(err)
	}
}

// detectPending runs one pass per case over the claims of batch and takes them off the pending
// list. A claim in the batch twice is looked at once. A pass that panics is run again claim by
// claim, so a claim that breaks detection stays pending (and is reported) alone; the other
// cases of the batch pass anyway.
func (s *Service) detectPending(ctx context.Context, batch []store.PendingReview) error {
	byCase := map[int64][]int64{}
	seen := make(map[int64]bool, len(batch))
	for _, r := range batch {
		if !seen[r.ClaimID] {
			seen[r.ClaimID] = true
			byCase[r.CaseID] = append(byCase[r.CaseID], r.ClaimID)
		}
	}
	var panics []error
	for caseID, ids := range byCase {
		err := s.detectClaims(ctx, caseID, ids)
		if errors.Is(err, apperr.ErrPanic) {
			// The other cases of the batch still pass.
			panics = append(panics, err)
			if len(ids) > 1 {
				for _, id := range ids {
					if err := s.detectClaims(ctx, caseID, []int64{id}); err != nil {
						panics = append(panics, err)
					}
				}
			}
			continue
		}
		if err != nil {
			return errors.Join(append(panics, err)...) // the panics so far are reported too
		}
	}
	return errors.Join(panics...)
}

// detectClaims is one pass over claims of a case, which then leave the pending list. A panic
// fails the pass, not the worker nor the process.
func (s *Service) detectClaims(ctx context.Context, caseID int64, ids []int64) (err error) {
	defer apperr.Catch("detection pass", &err)
	if err := s.Detect(ctx, store.Scope{CaseID: caseID, ClaimIDs: ids}); err != nil {
		return err
	}
	return s.Store.ReviewsDone(ctx, ids)
}

// Detect runs duplicate detection and every fraud signal on the claims of sc, set-based,
// and updates their scores. Imports call it once per import after their batch.
func (s *Service) Detect(ctx context.Context, sc store.Scope) error {
	cfg := s.review(ctx, sc.CaseID)
	now := s.Now().UTC().Truncate(time.Microsecond)
	if err := s.Store.DetectDuplicates(ctx, sc, time.Duration(cfg.DuplicateWindowSeconds)*time.Second, now); err != nil {
		return err
	}
	rule := func(code string) (store.SignalRule, bool) {
		r, ok := cfg.Signals[code]
		return store.SignalRule{Code: code, Weight: r.Weight, Count: r.Count, Window: time.Duration(r.WindowSeconds) * time.Second,
			Factor: r.Factor, MinKRW: r.MinKRW, MinLength: r.MinLength}, ok && r.Weight > 0
	}
	if r, ok := rule(SignalIPBurst); ok && r.Count > 0 {
		if err := s.Store.SignalIPBurst(ctx, sc, r, now); err != nil {
			return err
		}
	}
	if r, ok := rule(SignalOutsideWindows); ok {
		if err := s.Store.SignalOutsideWindows(ctx, sc, r, now); err != nil {
			return err
		}
	}
	if r, ok := rule(SignalSameDescription); ok {
		if err := s.Store.SignalSameDescription(ctx, sc, r, now); err != nil {
			return err
		}
	}
	if r, ok := rule(SignalAmountOutlier); ok && r.Factor > 0 {
		medians, err := s.medians(ctx, sc.CaseID)
		if err != nil {
			return err
		}
		if err := s.Store.SignalAmountOutlier(ctx, sc, r, medians, now); err != nil {
			return err
		}
	}
	if r, ok := rule(SignalSimilarIdentity); ok {
		// At most 10,000 namesakes per claim in scope, as when claims were looked at one by one.
		rows, err := s.Store.SameNameClaims(ctx, sc, 10_000*max(1, len(sc.ClaimIDs)))
		if err != nil {
			return err
		}
		var sigs []models.ClaimSignal
		for _, row := range rows {
			if nearIdentity(row.Email, row.OtherEmail) {
				sigs = append(sigs,
					models.ClaimSignal{ClaimID: row.ClaimID, CaseID: row.CaseID, Code: r.Code, Weight: r.Weight, Detail: "email", CreatedAt: now},
					models.ClaimSignal{ClaimID: row.OtherID, CaseID: row.CaseID, Code: r.Code, Weight: r.Weight, Detail: "email", CreatedAt: now})
			}
		}
		if err := s.Store.AddSignals(ctx, sigs); err != nil {
			return err
		}
	}
	return s.Store.RescoreClaims(ctx, sc, now)
}

// nearIdentity reports whether two different emails are near-duplicates: the same mailbox
// once dots and a +tag are dropped from the local part, or at most two edits apart.
func nearIdentity(a, b string) bool {
	if a == "" || b == "" || a == b {
		return false
	}
	canon := func(e string) string {
		local, domain, _ := strings.Cut(e, "@")
		local, _, _ = strings.Cut(local, "+")
		return strings.ReplaceAll(local, ".", "") + "@" + domain
	}
	return canon(a) == canon(b) || editDistance(a, b) <= 2
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// medianTTL bounds how long service medians are reused: a median over a million items moves
// slowly, and computing it on every submission would cost more than the rest of intake.
const medianTTL = 10 * time.Minute

type medianEntry struct {
	at time.Time
	m  map[string]int64
}

func (s *Service) medians(ctx context.Context, caseID int64) (map[string]int64, error) {
	s.mediansMu.Lock()
	defer s.mediansMu.Unlock()
	if v, ok := s.medianCache.Load(caseID); ok {
		e := v.(medianEntry)
		if age := s.Now().Sub(e.at); age >= 0 && age < medianTTL {
			return e.m, nil
		}
	}
	m, err := s.Store.ServiceMedians(ctx, caseID)
	if err != nil {
		return nil, err
	}
	s.medianCache.Store(caseID, medianEntry{at: s.Now(), m: m})
	return m, nil
}

// RecordSignal raises a signal on a claim from a channel (the web form's honeypot field, say),
// with the configured weight (1 for a code without one), and updates its score.
func (s *Service) RecordSignal(ctx context.Context, cl *models.Claim, code, detail string) error {
	if code == "" {
		return apperr.New(apperr.Invalid, "")
	}
	w := 1
	if r, ok := s.review(ctx, cl.CaseID).Signals[code]; ok {
		w = r.Weight
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	if err := s.Store.AddSignals(ctx, []models.ClaimSignal{{ClaimID: cl.ID, CaseID: cl.CaseID, Code: code, Weight: w, Detail: detail, CreatedAt: now}}); err != nil {
		return err
	}
	return s.Store.RescoreClaims(ctx, store.Scope{CaseID: cl.CaseID, ClaimIDs: []int64{cl.ID}}, now)
}

// Statuses of a duplicate pair, as the store writes them: not decided yet, and the two
// decisions.
const (
	DuplicateCandidate = store.DuplicateCandidate
	DuplicateConfirmed = store.DuplicateConfirmed
	DuplicateRejected  = store.DuplicateRejected
)

// DuplicateStatuses lists the statuses of a pair.
var DuplicateStatuses = []string{DuplicateCandidate, DuplicateConfirmed, DuplicateRejected}

// DuplicatePair is a pair with its two claims: Later, the candidate duplicate, and First.
type DuplicatePair struct {
	store.DuplicatePair
	Later, First *models.Claim
}

// DuplicatePairs returns a page of the pairs f selects with their claims (one query for the
// claims of the page), and the cursor of the next page. A pair whose claim is gone is left out.
func (s *Service) DuplicatePairs(ctx context.Context, f store.DuplicateFilter) ([]DuplicatePair, string, error) {
	pairs, next, err := s.Store.ListDuplicates(ctx, f)
	if err != nil {
		return nil, "", err
	}
	ids := make([]int64, 0, 2*len(pairs))
	for _, p := range pairs {
		ids = append(ids, p.ClaimID, p.OtherClaimID)
	}
	byID, err := s.Store.ClaimsByIDs(ctx, ids)
	if err != nil {
		return nil, "", err
	}
	out := make([]DuplicatePair, 0, len(pairs))
	for _, p := range pairs {
		if later, first := byID[p.ClaimID], byID[p.OtherClaimID]; later != nil && first != nil {
			out = append(out, DuplicatePair{DuplicatePair: p, Later: later, First: first})
		}
	}
	return out, next, nil
}

// DecideDuplicate records a lawyer's decision on a candidate pair. Confirming it moves the
// later claim to duplicate (of the first: "keep first") through the lifecycle, when the
// later claim is still open; keep names which claim to keep when it is not the first.
func (s *Service) DecideDuplicate(ctx context.Context, later, first *models.Claim, decision string, keep string, note string, actor audit.Actor) error {
	if fields := lifecycle.CheckNote(note); fields != nil { // as a transition's note, whichever the decision
		return apperr.Validation(fields)
	}
	now := s.Now()
	caseID := later.CaseID
	ev, err := audit.Event{Actor: actor, CaseID: &caseID, Action: ActionDuplicateDecn, Entity: audit.EntityClaim, EntityID: later.Reference,
		After: map[string]any{"decision": decision, "other": first.Reference, "keep": keep}, Details: map[string]any{"note": note}}.Model(now)
	if err != nil {
		return err
	}
	// A confirmed duplicate that is still open moves to duplicate in the same transaction as
	// the decision: the pair is never decided while the claim stays counted.
	var then *store.Transition
	dup, orig := later, first
	if keep == later.Reference {
		dup, orig = first, later
	}
	if decision == DuplicateConfirmed && lifecycle.IsOpen(dup.Status) {
		tr, err := s.planTransition(ctx, dup, lifecycle.Request{To: lifecycle.Duplicate, Reasons: []string{lifecycle.ReasonDuplicateSubmission},
			Note: note, DuplicateOf: orig.Reference}, actor, orig)
		if err != nil {
			return err
		}
		then = &tr
	}
	if err := s.Store.DecideDuplicate(ctx, later.ID, first.ID, decision, actor.Name, now, ev, then); err != nil {
		return duplicateOfError(err, "keep") // the original of the transition is the claim kept
	}
	if then != nil {
		t := then.Record
		dup.Status, dup.CureDeadline, dup.DuplicateOf, dup.UpdatedAt = t.ToStatus, t.CureDeadline, t.DuplicateOf, t.At
	}
	return nil
}
