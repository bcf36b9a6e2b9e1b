package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/ratelimit"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// Evidence limits (issue 7).
const (
	MaxEvidenceBytes = 10 << 20
	MaxEvidenceFiles = 10
)

// sessionTTL is how long a claimant stays signed in to the status page without using it:
// every page used signed in issues the session again (re-signing the cookie reads nothing).
// A session fixed at 30 minutes from sign-in logged out a claimant busy photographing
// receipts, whose next upload or correction was then lost.
const sessionTTL = 30 * time.Minute

type statusPage struct {
	SignedIn    bool
	Reference   string
	Status      string
	Submitted   string
	Items       []statusItem
	Estimate    string
	Evidence    []evidenceView
	EvidenceMax int
	// EvidenceMaxBytes lets the script refuse a file before a long upload.
	EvidenceMaxBytes int
	CanUpload        bool
	CanWithdraw      bool
	CanEdit          bool
	Contact          contactForm
	// Deficiency is what counsel asked for while the claim is deficient.
	Deficiency *deficiency
}

// deficiency is the notice of a deficient claim: what to send, by when.
type deficiency struct {
	Needs    []string // keys of the texts saying what to send
	Deadline string
}

// claimantReasons are the reasons of a deficiency a claimant is told about, each with what to
// send; any other reason (an internal one) shows as the general request.
var claimantReasons = []string{"missing_evidence", "incomplete_items", "contact_unverified", "identity_unverified", "amount_unsupported"}

type statusItem struct {
	Position int
	Kind     string
	Target   string
	When     string
	Decision decision
}

type evidenceView struct {
	ID   int64
	Name string
	Type string
	Size string
	When string
}

// statusSession is a browser's sign-in to the status page, as its cookie holds it.
type statusSession struct {
	ref string
	// issued is when the claimant signed in, to the microsecond: a session issued at or
	// before the claim's SessionsEndedAt (a sign-out, the withdrawal, an erasure) is over.
	issued time.Time
}

// session reads the browser's status-page cookie: ok is false when there is none, it is not
// ours, or it has expired. Whether its claim has ended it since is for signedIn to say.
func (h *handler) session(c *gin.Context) (s statusSession, ok bool) {
	raw, err := c.Cookie(cookieStatus)
	if err != nil {
		return s, false
	}
	v, ok := h.verify(raw)
	if !ok {
		return s, false
	}
	ref, issued, ok := strings.Cut(v, "|")
	n, err := strconv.ParseInt(issued, 10, 64)
	if !ok || err != nil || ref == "" {
		return s, false
	}
	s = statusSession{ref: ref, issued: time.UnixMicro(n).UTC()}
	// A cookie of the earlier form, ref|expiry in seconds, reads as issued in 1970: expired,
	// its claimant signs in again.
	if h.now().After(s.issued.Add(sessionTTL)) {
		return s, false
	}
	return s, true
}

// setSession signs the browser in to the claim ref: the cookie holds the reference and the
// instant it was issued. The server ends it sessionTTL after that instant (session); the
// cookie itself lasts as long as the browser runs, so that a claimant back after the session
// ended still sends it and is told why they are signed out (claimOf). A cookie that expired
// with the session was gone when the server would have said so, and the page never said it.
func (h *handler) setSession(c *gin.Context, ref string) {
	v := h.sign(ref + "|" + strconv.FormatInt(h.now().UnixMicro(), 10))
	c.SetSameSite(http.SameSiteStrictMode)
	c.SetCookie(cookieStatus, v, 0, "/status", "", Secure(c), true)
}

// clearSession signs the browser out (its cookie only; EndClaimSessions ends the copies).
func clearSession(c *gin.Context) {
	c.SetSameSite(http.SameSiteStrictMode)
	c.SetCookie(cookieStatus, "", -1, "/status", "", Secure(c), true)
}

// signedIn loads the claim the browser is signed in to; nil when it is not: no session, an
// expired one, or one its claim has ended since it began (the claimant signed out, withdrew,
// or the claim was erased), which is refused here, where the claim is loaded anyway. The
// cookie of a refused session is cleared. ended is the claim of a session refused because its
// claim ended it, loaded already (the status page says whether a withdrawal is done); nil
// otherwise. The session is not issued again here, or a sign-out would send the new cookie
// and its removal: the pages that go on do it (claimOf, status).
func (h *handler) signedIn(c *gin.Context) (cl, ended *models.Claim, err error) {
	s, ok := h.session(c)
	if !ok {
		if _, err := c.Cookie(cookieStatus); err == nil {
			clearSession(c)
		}
		return nil, nil, nil
	}
	cl, err = h.store.ClaimByReference(c.Request.Context(), s.ref)
	switch {
	case apperr.Is(err, apperr.NotFound):
		clearSession(c)
		return nil, nil, nil
	case err != nil:
		return nil, nil, err
	case cl.SessionsEndedAt != nil && !s.issued.After(*cl.SessionsEndedAt):
		clearSession(c)
		return nil, cl, nil
	}
	return cl, nil, nil
}

// claimOf loads the signed-in claim and issues its session again, so that it ends sessionTTL
// after this use; without a session it sends the browser to the lookup.
func (h *handler) claimOf(c *gin.Context) (*models.Claim, bool) {
	cl, _, err := h.signedIn(c)
	if err != nil {
		h.failErr(c, err)
		return nil, false
	}
	if cl == nil {
		where := "/status"
		if s, _ := h.session(c); !s.issued.IsZero() && h.now().After(s.issued.Add(sessionTTL)) {
			where += "?expired=1" // timed out: the lookup says why it is back, and what was lost
		}
		c.Redirect(http.StatusSeeOther, where)
		return nil, false
	}
	h.setSession(c, cl.Reference)
	return cl, true
}

func (h *handler) status(c *gin.Context) {
	cl, ended, err := h.signedIn(c)
	if err != nil {
		h.failErr(c, err)
		return
	}
	v := h.view(c, "status_title")
	if cl == nil {
		// A withdrawal ends the claim's sessions, this browser's too: it lands here, told
		// that it is done if its (ended) session's claim is withdrawn indeed.
		if c.Query("done") == "withdrawn" && ended != nil && ended.Status == store.StatusWithdrawn {
			v.Message = v.T("done_withdrawn")
		}
		if c.Query("expired") == "1" {
			v.Message = v.T("session_expired")
		}
		v.Page = statusPage{Reference: c.Query("reference")}
		h.render(c, http.StatusOK, "status", v)
		return
	}
	// A notice says what the claim shows: a withdrawal is told only of a withdrawn claim.
	if done := c.Query("done"); slices.Contains([]string{"contact", "evidence"}, done) || done == "withdrawn" && cl.Status == store.StatusWithdrawn {
		v.Message = v.T("done_" + done)
	}
	h.setSession(c, cl.Reference)
	h.showStatus(c, v, cl, nil, http.StatusOK)
}

func (h *handler) showStatus(c *gin.Context, v *view, cl *models.Claim, errs []fieldError, code int) {
	ctx := c.Request.Context()
	ck, err := h.checker(ctx, v.Lang)
	if err != nil {
		h.failErr(c, err)
		return
	}
	ev, err := h.store.ListEvidence(ctx, cl.ID)
	if err != nil {
		h.failErr(c, err)
		return
	}
	cs := ck.b.Case
	open := slices.Contains(store.OpenStatuses, cl.Status)
	p := statusPage{SignedIn: true, Reference: cl.Reference, Status: cl.Status, Submitted: when(v.Lang, cl.SubmittedAt),
		EvidenceMax: MaxEvidenceFiles, EvidenceMaxBytes: MaxEvidenceBytes, CanUpload: open && len(ev) < MaxEvidenceFiles, CanWithdraw: open, CanEdit: cl.Status != store.StatusWithdrawn,
		Contact: contactForm{Name: cl.ClaimantName, Email: cl.ClaimantEmail, Phone: nationalPhone(cl.ClaimantPhone)}}
	if f := c.Request.PostForm; f != nil && c.Request.URL.Path == "/status/contact" {
		p.Contact = contactForm{Name: f.Get("name"), Email: f.Get("email"), Phone: f.Get("phone")}
	}
	for i := range cl.Items {
		it := &cl.Items[i]
		p.Items = append(p.Items, statusItem{Position: it.Position + 1, Kind: it.Kind, Target: targetName(cs, v.Lang, it.Service, it.Feature),
			When: when(v.Lang, it.OccurredAt), Decision: ck.explain(it)})
	}
	if cl.Status == "deficient" {
		d, err := h.deficiency(ctx, cl, v)
		if err != nil {
			h.failErr(c, err)
			return
		}
		p.Deficiency = d
	}
	if h.settings.ShowEstimate && cl.EstimateKRW != nil {
		p.Estimate = v.T("won", "amount", damages.FormatWon(*cl.EstimateKRW))
	}
	for _, e := range ev {
		p.Evidence = append(p.Evidence, evidenceView{ID: e.ID, Name: e.FileName, Type: e.ContentType, Size: sizeText(e.SizeBytes), When: when(v.Lang, e.CreatedAt)})
	}
	v.Errors = errs
	v.Page = p
	h.render(c, code, "status", v)
}

// deficiency reads the latest move to deficient: its reasons and the cure deadline.
func (h *handler) deficiency(ctx context.Context, cl *models.Claim, v *view) (*deficiency, error) {
	ts, err := h.store.ClaimTransitions(ctx, cl.ID)
	if err != nil {
		return nil, err
	}
	d := &deficiency{}
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].ToStatus != "deficient" {
			continue
		}
		for _, r := range strings.Split(ts[i].Reasons, ",") {
			if slices.Contains(claimantReasons, r) && !slices.Contains(d.Needs, "cure_"+r) {
				d.Needs = append(d.Needs, "cure_"+r)
			}
		}
		break
	}
	if len(d.Needs) == 0 {
		d.Needs = []string{"cure_other"}
	}
	if cl.CureDeadline != nil {
		d.Deadline = when(v.Lang, *cl.CureDeadline)
	}
	return d, nil
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// statusLookup signs the browser in to a claim with its reference and access code. A wrong
// reference and a wrong code answer the same, and failed lookups are rate limited per IP and
// per reference, so codes cannot be probed.
func (h *handler) statusLookup(c *gin.Context) {
	if !h.parseForm(c) || !h.checkCSRF(c) {
		return
	}
	refIn, code := c.PostForm("reference"), c.PostForm("access_code")
	ref := auth.CanonicalReference(refIn)
	// Only failed lookups count: a claimant who mistyped a few times still gets in with the
	// right code; a guesser is stopped. They count in the budget of wrong codes shared with
	// the API, per IP and per reference (under its keys, api/claims.go), so many addresses
	// guessing one reference, or one guesser using both doors, are stopped too. The attempt
	// is taken before the code is checked, and given back if it was right: checking first
	// and counting after would let lookups made at once all through.
	keys := []ratelimit.Key{{Limiter: h.codes, Name: ratelimit.IPKey(c.ClientIP())}}
	if ref != "" {
		keys = append(keys, ratelimit.Key{Limiter: h.codes, Name: "ref:" + ref})
	}
	attempt, ok := ratelimit.Try(keys...)
	if !ok {
		h.tooMany(c, h.codes)
		return
	}
	defer attempt.Done()
	ctx := c.Request.Context()
	v := h.view(c, "status_title")
	var cl *models.Claim
	var err error
	if ref != "" && strings.TrimSpace(code) != "" {
		cl, err = h.store.ClaimByReference(ctx, ref)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			h.failErr(c, err)
			return
		}
	}
	if cl == nil || !auth.Equal(auth.HashAccessCode(code), cl.AccessCodeHash) {
		attempt.Failed()
		v.Errors = []fieldError{{ID: "reference", Message: v.T("bad_access_code")}}
		v.Page = statusPage{Reference: refIn}
		h.render(c, http.StatusUnauthorized, "status", v)
		return
	}
	h.setSession(c, cl.Reference)
	c.Redirect(http.StatusSeeOther, "/status")
}

func (h *handler) signOut(c *gin.Context) {
	if !h.parseForm(c) || !h.checkCSRF(c) {
		return
	}
	// Clearing this browser's cookie is not enough: a copy of it (another browser, a shared
	// computer) would stay signed in until it expired. Every session of the claim begun until
	// now ends. A session refused already has nothing to end (signedIn cleared its cookie).
	cl, _, err := h.signedIn(c)
	if err != nil {
		h.failErr(c, err)
		return
	}
	if cl != nil {
		if err := h.store.EndClaimSessions(c.Request.Context(), cl.ID, h.now()); err != nil {
			h.failErr(c, err)
			return
		}
		clearSession(c)
	}
	c.Redirect(http.StatusSeeOther, "/status")
}

type withdrawPage struct{ Reference string }

func (h *handler) withdrawConfirm(c *gin.Context) {
	cl, ok := h.claimOf(c)
	if !ok {
		return
	}
	if !slices.Contains(store.OpenStatuses, cl.Status) {
		c.Redirect(http.StatusSeeOther, "/status")
		return
	}
	v := h.view(c, "withdraw_title")
	v.Page = withdrawPage{Reference: cl.Reference}
	h.render(c, http.StatusOK, "withdraw", v)
}

func (h *handler) withdraw(c *gin.Context) {
	if !h.parseForm(c) || !h.checkCSRF(c) {
		return
	}
	cl, ok := h.claimOf(c)
	if !ok {
		return
	}
	if c.PostForm("confirm") != "yes" {
		c.Redirect(http.StatusSeeOther, "/status/withdraw")
		return
	}
	// Through the lifecycle, the one place that changes a claim's status (and audits it).
	ctx := c.Request.Context()
	err := h.claims.Withdraw(ctx, cl, audit.Actor{Kind: audit.ActorClaimant, IP: c.ClientIP()})
	if apperr.Is(err, apperr.InvalidTransition) {
		// Refused: the status is not the one the page showed. Withdrawn already (a second
		// press of the button) is done; anything else (staff decided the claim meanwhile) is
		// not, and the page says so with the status as it is.
		if cl, err = h.store.ClaimByReference(ctx, cl.Reference); err != nil {
			h.failErr(c, err)
			return
		}
		if cl.Status != store.StatusWithdrawn {
			v := h.view(c, "status_title")
			v.Message = v.T("withdraw_not_done")
			if !slices.Contains(store.OpenStatuses, cl.Status) {
				v.Message = v.T("not_withdrawable")
			}
			h.showStatus(c, v, cl, nil, http.StatusConflict)
			return
		}
	} else if err != nil {
		h.failErr(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/status?done=withdrawn")
}

func (h *handler) contact(c *gin.Context) {
	if !h.parseForm(c) || !h.checkCSRF(c) {
		return
	}
	cl, ok := h.claimOf(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	v := h.view(c, "status_title")
	ck, err := h.checker(ctx, v.Lang)
	if err != nil {
		h.failErr(c, err)
		return
	}
	f := contactForm{Name: c.PostForm("name"), Email: c.PostForm("email"), Phone: c.PostForm("phone")}
	if errs := ck.contact(f); errs != nil {
		h.showStatus(c, v, cl, errs, http.StatusUnprocessableEntity)
		return
	}
	// Stored as it would have been filed (a name typed on a Mac, decomposed, is stored in NFC,
	// or a search for it would miss it).
	name, email, phone := intake.NormalizeContact(f.Name, f.Email, f.Phone)
	if err := h.claims.UpdateContact(ctx, cl, name, email, phone, audit.Actor{Kind: audit.ActorClaimant, IP: c.ClientIP()}); err != nil {
		// Withdrawn or erased meanwhile: nothing was stored, and the page says why.
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Code == apperr.Conflict && ae.Message != "" {
			h.showStatus(c, v, cl, []fieldError{{ID: "name", Message: messages.Text(v.Lang, ae.Message, ae.Params)}}, http.StatusConflict)
			return
		}
		h.failErr(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/status?done=contact")
}

// uploadEvidence takes one file from the status page. Its type is read from its first bytes,
// never from its name or the browser's content type.
func (h *handler) uploadEvidence(c *gin.Context) {
	// Only a claimant signed in to the status page may upload: ask before reading up to
	// 10 MB of body for anybody.
	if _, ok := h.session(c); !ok {
		c.Redirect(http.StatusSeeOther, "/status")
		return
	}
	limitBody(c, MaxEvidenceBytes+64<<10)
	v := h.view(c, "status_title")
	err := c.Request.ParseMultipartForm(1 << 20)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			cl, ok := h.claimOf(c)
			if ok {
				h.showStatus(c, v, cl, []fieldError{{ID: "evidence", Message: v.T("evidence_too_large", "max", "10 MB")}}, http.StatusRequestEntityTooLarge)
			}
			return
		}
		h.fail(c, http.StatusBadRequest, "malformed_request")
		return
	}
	// Uploads share the generous limiter of live validation: a claim takes at most
	// MaxEvidenceFiles files anyway.
	if !h.checkCSRF(c) || h.limited(c, h.checks) {
		return
	}
	cl, ok := h.claimOf(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	bad := func(key string, kv ...string) {
		h.showStatus(c, v, cl, []fieldError{{ID: "evidence", Message: v.T(key, kv...)}}, http.StatusUnprocessableEntity)
	}
	if !slices.Contains(store.OpenStatuses, cl.Status) {
		bad("claim_closed")
		return
	}
	file, hdr, err := c.Request.FormFile("evidence")
	if err != nil {
		bad("evidence_required")
		return
	}
	defer file.Close()
	content, err := io.ReadAll(io.LimitReader(file, MaxEvidenceBytes+1))
	if err != nil {
		h.failErr(c, err)
		return
	}
	switch {
	case len(content) == 0:
		bad("evidence_required")
		return
	case len(content) > MaxEvidenceBytes:
		bad("evidence_too_large", "max", "10 MB")
		return
	}
	typ := sniff(content)
	if typ == "" {
		bad("evidence_type")
		return
	}
	e := &models.Evidence{ClaimID: cl.ID, CaseID: cl.CaseID, FileName: cleanName(hdr.Filename), ContentType: typ, UploadedIP: c.ClientIP(), CreatedAt: h.now()}
	e.SHA256 = fmt.Sprintf("%x", sha256Sum(content))
	audited := func(e *models.Evidence) (*models.AuditEvent, error) {
		caseID := cl.CaseID
		return audit.Event{Actor: audit.Actor{Kind: audit.ActorClaimant, IP: c.ClientIP()}, CaseID: &caseID, Action: "add_evidence",
			Entity: audit.EntityClaim, EntityID: cl.Reference,
			Details: map[string]any{"evidence_id": e.ID, "content_type": e.ContentType, "size_bytes": e.SizeBytes, "sha256": e.SHA256}}.Model(h.now())
	}
	if err := h.store.AddEvidenceAudited(ctx, e, content, h.blobs, MaxEvidenceFiles, audited); err != nil {
		// The limit reached, or the claim closed or erased meanwhile: the store says which.
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Code == apperr.Conflict && ae.Message != "" {
			h.showStatus(c, v, cl, []fieldError{{ID: "evidence", Message: messages.Text(v.Lang, ae.Message, ae.Params)}}, http.StatusUnprocessableEntity)
			return
		}
		h.failErr(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/status?done=evidence")
}

// evidenceFile serves an evidence file to the signed-in claimant, or to staff with a lawyer
// or admin token. It is sent as an attachment under a neutral name, sandboxed.
func (h *handler) evidenceFile(c *gin.Context) {
	ctx := c.Request.Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		h.fail(c, http.StatusNotFound, "not_found")
		return
	}
	var e *models.Evidence
	if staff, ok := h.staff(ctx, c.GetHeader("Authorization")); ok && staff {
		e, err = h.store.EvidenceByID(ctx, id)
	} else {
		cl, ok := h.claimOf(c)
		if !ok {
			return
		}
		e, err = h.store.Evidence(ctx, cl.ID, id)
	}
	if err != nil {
		h.failErr(c, err)
		return
	}
	content, err := h.blobs.Get(ctx, e.StorageKey)
	if err != nil {
		h.failErr(c, err)
		return
	}
	c.Header("Content-Security-Policy", "default-src 'none'; sandbox")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="evidence-%d%s"`, e.ID, extension[e.ContentType]))
	c.DataFromReader(http.StatusOK, int64(len(content)), e.ContentType, bytes.NewReader(content), nil)
}

// staff reports whether the Authorization header carries a live lawyer or admin token.
func (h *handler) staff(ctx context.Context, header string) (bool, bool) {
	tok, ok := strings.CutPrefix(header, "Bearer ")
	if !ok || tok == "" {
		return false, false
	}
	t, err := h.store.TokenByHash(ctx, auth.Hash(strings.TrimSpace(tok)))
	if err != nil {
		return false, false
	}
	p := &auth.Principal{Role: auth.Role(t.Role)}
	return p.Can(auth.Admin, auth.Lawyer), true
}

// cleanName keeps a file name for display: no path, no control characters, at most 120 runes.
func cleanName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 120 {
		s = string(r[:120])
	}
	return s
}
