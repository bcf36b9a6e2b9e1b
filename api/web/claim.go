package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/ratelimit"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// Steps of the claim form.
const (
	stepCheck   = "check"
	stepItems   = "items"
	stepContact = "contact"
	stepReview  = "review"
)

var steps = []string{stepCheck, stepItems, stepContact, stepReview}

// draft is the claim being filled in. Without JavaScript and without a server-side session,
// it travels between the steps in one hidden field (base64 JSON). It holds nothing the
// claimant did not type, and the server validates everything again at submission, so a
// tampered draft can only produce a claim its sender could have typed.
type draft struct {
	ID        string      `json:"id"`
	Step      string      `json:"step"`
	Check     checkForm   `json:"check"`
	Items     []itemForm  `json:"items"`
	Editing   *itemForm   `json:"editing,omitempty"`
	EditIndex int         `json:"edit_index"`
	Claimant  contactForm `json:"claimant"`
	Consent   bool        `json:"consent"`
}

type checkForm struct {
	Target string `json:"target"`
	At     string `json:"at"`
}

// itemForm is an incident as typed: amounts are strings ("12,000"), service and feature one
// "service/feature" choice.
type itemForm struct {
	Kind            string `json:"kind"`
	Target          string `json:"target"`
	OccurredAt      string `json:"occurred_at"`
	EndedAt         string `json:"ended_at"`
	Failure         string `json:"failure"`
	Purpose         string `json:"purpose"`
	ExpectedFare    string `json:"expected_fare_krw"`
	AlternativeCost string `json:"alternative_cost_krw"`
	Amount          string `json:"amount_krw"`
	Loss            string `json:"loss_krw"`
	Documented      bool   `json:"documented"`
	Description     string `json:"description"`
}

type contactForm struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

func newDraft() *draft {
	b := make([]byte, 12)
	rand.Read(b)
	return &draft{ID: hex.EncodeToString(b), Step: stepCheck, EditIndex: -1}
}

func (d *draft) encode() string {
	b, _ := json.Marshal(d) // strings and bools only
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeDraft(s string) (*draft, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	d := &draft{}
	if json.Unmarshal(b, d) != nil || d.ID == "" || !slices.Contains(steps, d.Step) || len(d.Items) > intake.MaxItems {
		return nil, false
	}
	if d.EditIndex < -1 || d.EditIndex >= len(d.Items) {
		d.EditIndex = -1
	}
	if d.Editing != nil && !slices.Contains(intake.Kinds, d.Editing.Kind) {
		d.Editing = nil
	}
	return d, true
}

// readFields copies the inputs of the draft's current step from the posted form.
func (d *draft) readFields(c *gin.Context) {
	switch d.Step {
	case stepCheck:
		d.Check = checkForm{Target: c.PostForm("check_target"), At: c.PostForm("check_at")}
	case stepItems:
		if d.Editing != nil {
			e := d.Editing
			e.Target, e.OccurredAt, e.EndedAt = c.PostForm("target"), c.PostForm("occurred_at"), c.PostForm("ended_at")
			e.Failure, e.Purpose = c.PostForm("failure"), c.PostForm("purpose")
			e.ExpectedFare, e.AlternativeCost = c.PostForm("expected_fare_krw"), c.PostForm("alternative_cost_krw")
			e.Amount, e.Loss = c.PostForm("amount_krw"), c.PostForm("loss_krw")
			e.Documented, e.Description = c.PostForm("documented") == "yes", c.PostForm("description")
		}
	case stepContact:
		d.Claimant = contactForm{Name: c.PostForm("name"), Email: c.PostForm("email"), Phone: c.PostForm("phone")}
	case stepReview:
		d.Consent = c.PostForm("consent") == "yes"
	}
}

// parseWon reads an amount in won as people write it: "12,000", "12 000", "12000원", "₩12,000".
// An empty amount is nil. A number too large for int64 is an error wrapping strconv.ErrRange
// (written right, it is out of the amount's range), anything else not a whole number one
// wrapping strconv.ErrSyntax.
func parseWon(s string) (*int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "₩"), "원")
	s = strings.NewReplacer(",", "", " ", "", "\u00a0", "").Replace(strings.TrimSpace(s))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// input turns the typed item into the API's input; amounts that are not numbers are reported
// as field errors under prefix.
func (it itemForm) input(prefix string) (intake.ItemInput, []apperr.FieldError) {
	var errs []apperr.FieldError
	svc, feat, _ := strings.Cut(it.Target, "/")
	in := intake.ItemInput{Kind: it.Kind, Service: svc, Feature: feat, OccurredAt: it.OccurredAt, EndedAt: it.EndedAt,
		Failure: it.Failure, Purpose: it.Purpose, Description: it.Description}
	if it.Documented {
		in.Documented = &it.Documented
	}
	for _, a := range []struct {
		name string
		val  string
		dst  **int64
	}{{"expected_fare_krw", it.ExpectedFare, &in.ExpectedFareKRW}, {"alternative_cost_krw", it.AlternativeCost, &in.AlternativeCostKRW},
		{"amount_krw", it.Amount, &in.AmountKRW}, {"loss_krw", it.Loss, &in.LossKRW}} {
		n, err := parseWon(a.val)
		if err != nil {
			errs = append(errs, amountError(prefix+"."+a.name, a.name, err))
			continue
		}
		*a.dst = n
	}
	return in, errs
}

// amountError is the error of the amount of field name that parseWon refused with err: one
// too large for int64 is not badly written, it is out of the field's range (intake.AmountTooLarge).
func amountError(path, name string, err error) apperr.FieldError {
	if errors.Is(err, strconv.ErrRange) {
		return intake.AmountTooLarge(path, name)
	}
	return apperr.FieldError{Path: path, Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_amount"}}
}

// itemIDs are the editor's inputs in page order; errors on the service, feature or kind show
// on the one service-and-feature choice.
var itemIDs = []string{"target", "occurred_at", "ended_at", "failure", "purpose", "expected_fare_krw", "alternative_cost_krw", "amount_krw", "loss_krw", "documented", "description"}

func itemID(path string) string {
	_, field, ok := strings.Cut(path, "].")
	if !ok {
		return ""
	}
	switch field {
	case "service", "feature", "kind":
		return "target"
	}
	if slices.Contains(itemIDs, field) {
		return field
	}
	return ""
}

// decision is an eligibility answer in words.
type decision struct {
	Status string `json:"status"`
	Label  string `json:"label"`
	Text   string `json:"text"`
}

// checker validates and decides with one snapshot of the case.
type checker struct {
	b    *claims.Builder
	lang messages.Lang
}

func (h *handler) checker(ctx context.Context, l messages.Lang) (*checker, error) {
	b, err := h.claims.Builder(ctx, h.caseSlug)
	if err != nil {
		return nil, err
	}
	return &checker{b: b, lang: l}, nil
}

// placeholder contact details, so that one item can be validated on its own.
var placeholderClaimant = intake.ClaimantInput{Name: "-", Email: "check@example.com"}

// item validates one incident; on success it returns its eligibility.
func (ck *checker) item(it itemForm) (*decision, []fieldError) {
	in, perr := it.input("items[0]")
	yes := true
	m, err := ck.b.Build(intake.ClaimInput{Claimant: placeholderClaimant, Consent: &yes, Items: []intake.ItemInput{in}}, claims.Meta{})
	if len(perr) > 0 {
		err = apperr.MergeFields(apperr.Validation(perr), err)
	}
	if err != nil {
		errs := fieldErrors(ck.lang, err, itemID)
		order(errs, itemIDs)
		return ck.itemTime(it, errs), errs
	}
	d := ck.explain(&m.Items[0])
	return &d, nil
}

// itemTime decides an item whose service and times are valid even when other fields are not,
// so the claimant learns about the time while still filling in the rest.
func (ck *checker) itemTime(it itemForm, errs []fieldError) *decision {
	for _, e := range errs {
		if e.ID == "target" || e.ID == "occurred_at" || e.ID == "ended_at" {
			return nil
		}
	}
	svc, feat, _ := strings.Cut(it.Target, "/")
	start, err := intake.ParseInstant(it.OccurredAt, ck.b.Case.Location)
	if err != nil || !validTarget(ck.b.Case, svc, feat) {
		return nil
	}
	p := damages.Period{Start: start}
	if it.EndedAt != "" {
		if end, err := intake.ParseInstant(it.EndedAt, ck.b.Case.Location); err == nil {
			p.End = end
		}
	}
	d := ck.words(damages.Decide(p, damages.Applicable(ck.b.Rules.Rules.WindowPolicy, svc, feat, ck.b.Case.DomainWindows())))
	return &d
}

// explain words the decision on an item, naming the deciding (or nearest) window.
func (ck *checker) explain(it *models.ClaimItem) decision {
	cs := ck.b.Case
	d := damages.Decide(claims.ItemPeriod(it), damages.Applicable(ck.b.Rules.Rules.WindowPolicy, it.Service, it.Feature, cs.DomainWindows()))
	return ck.words(d)
}

func (ck *checker) words(d damages.Decision) decision {
	w := d.Window
	if w == nil {
		w = d.Nearest
	}
	params := map[string]string{"window": "-"}
	if w != nil {
		params["window"] = ck.describe(w)
	}
	return decision{Status: string(d.Status), Label: messages.Text(ck.lang, "answer_"+string(d.Status), nil), Text: messages.Text(ck.lang, d.Code, params)}
}

// describe names a window with the names people know, in the page language.
func (ck *checker) describe(w *damages.Window) string {
	return messages.Window(ck.lang, targetName(ck.b.Case, ck.lang, w.Service, w.Feature), string(w.Severity), w.Start, w.End, ck.b.Case.Location)
}

// check answers the self-check of step 1: is this service and time inside a window?
func (ck *checker) check(f checkForm) (*decision, []fieldError) {
	var errs []fieldError
	svc, feat, _ := strings.Cut(f.Target, "/")
	if !validTarget(ck.b.Case, svc, feat) {
		errs = append(errs, fieldError{ID: "check_target", Message: messages.Field(ck.lang, apperr.FieldError{Code: apperr.FieldRequired})})
	}
	t, err := intake.ParseInstant(f.At, ck.b.Case.Location)
	switch {
	case strings.TrimSpace(f.At) == "":
		errs = append(errs, fieldError{ID: "check_at", Message: messages.Field(ck.lang, apperr.FieldError{Code: apperr.FieldRequired})})
	case err != nil:
		errs = append(errs, fieldError{ID: "check_at", Message: messages.Field(ck.lang, apperr.FieldError{Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_time"}})})
	case t.After(ck.b.Now()):
		errs = append(errs, fieldError{ID: "check_at", Message: messages.Field(ck.lang, apperr.FieldError{Code: apperr.FieldInFuture})})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	d := ck.words(damages.Decide(damages.Period{Start: t}, damages.Applicable(ck.b.Rules.Rules.WindowPolicy, svc, feat, ck.b.Case.DomainWindows())))
	return &d, nil
}

var contactIDs = []string{"name", "email", "phone"}

// contact validates contact details with the API's rules (intake.Normalize) and returns the
// errors of the claimant's fields only.
func (ck *checker) contact(f contactForm) []fieldError {
	_, err := intake.Normalize(intake.ClaimInput{Claimant: intake.ClaimantInput{Name: f.Name, Email: f.Email, Phone: f.Phone, Locale: string(ck.lang)}},
		ck.b.Case.Domain(), ck.b.Now())
	errs := fieldErrors(ck.lang, err, func(path string) string {
		field, ok := strings.CutPrefix(path, "claimant.")
		if !ok || !slices.Contains(contactIDs, field) {
			return ""
		}
		return field
	})
	order(errs, contactIDs)
	return errs
}

func targetLabel(cs *store.Case, l messages.Lang, target string) string {
	svc, feat, _ := strings.Cut(target, "/")
	return targetName(cs, l, svc, feat)
}

func validTarget(cs *store.Case, svc, feat string) bool {
	for _, s := range cs.Services {
		if s.Slug == svc {
			for _, f := range s.Features {
				if f.Slug == feat {
					return true
				}
			}
		}
	}
	return false
}

func targetName(cs *store.Case, l messages.Lang, svc, feat string) string {
	for _, s := range cs.Services {
		if s.Slug != svc {
			continue
		}
		for _, f := range s.Features {
			if f.Slug == feat {
				return name(l, s.NameKo, s.NameEn) + " · " + name(l, f.NameKo, f.NameEn)
			}
		}
		return name(l, s.NameKo, s.NameEn)
	}
	return svc + "/" + feat
}

// claimPage is what the form template shows.
type claimPage struct {
	Draft     string
	Step      string
	StepIndex int
	Steps     []string
	Check     checkForm
	Result    *decision
	Targets   []targetGroup // every service and feature (step 1)
	Kinds     []string      // kinds the case accepts
	Items     []itemView
	Editing   *itemForm
	EditIndex int
	EditKinds []targetGroup // the choices for the item being edited
	Failures  []string
	Purposes  []string
	Claimant  contactForm
	Consent   bool
	Version   string
}

type targetGroup struct {
	Label   string
	Options []targetOption
}

type targetOption struct {
	Value, Label string
}

type itemView struct {
	Index    int
	Kind     string
	Target   string
	When     string
	Details  []string
	Decision *decision
	Problems []fieldError
}

func targets(cs *store.Case, l messages.Lang, kind string) []targetGroup {
	var out []targetGroup
	for _, s := range cs.Services {
		if kind != "" && !slices.Contains(s.Kinds, kind) {
			continue
		}
		g := targetGroup{Label: name(l, s.NameKo, s.NameEn)}
		for _, f := range s.Features {
			// The service is repeated in the option: a closed select shows only the option.
			g.Options = append(g.Options, targetOption{Value: s.Slug + "/" + f.Slug, Label: g.Label + " · " + name(l, f.NameKo, f.NameEn)})
		}
		out = append(out, g)
	}
	return out
}

func caseKinds(cs *store.Case) []string {
	var out []string
	for _, k := range intake.Kinds {
		for _, s := range cs.Services {
			if slices.Contains(s.Kinds, k) {
				out = append(out, k)
				break
			}
		}
	}
	return out
}

func (h *handler) claimStart(c *gin.Context) {
	h.showClaim(c, newDraft(), nil, nil, http.StatusOK)
}

// showClaim renders the form at the draft's step.
func (h *handler) showClaim(c *gin.Context, d *draft, errs []fieldError, result *decision, status int) {
	ctx := c.Request.Context()
	v := h.view(c, "claim_title")
	h.fillClaim(ctx, c, v, d, errs, result, status)
}

func (h *handler) fillClaim(ctx context.Context, c *gin.Context, v *view, d *draft, errs []fieldError, result *decision, status int) {
	ck, err := h.checker(ctx, v.Lang)
	if err != nil {
		h.failErr(c, err)
		return
	}
	cs := ck.b.Case
	v.Title = v.T("claim_title") + " – " + v.T("step_"+d.Step)
	v.LangForm = "claimform"
	v.Errors = errs
	p := claimPage{Draft: d.encode(), Step: d.Step, StepIndex: slices.Index(steps, d.Step) + 1, Steps: steps, Check: d.Check, Result: result,
		Targets: targets(cs, v.Lang, ""), Kinds: caseKinds(cs), Editing: d.Editing, EditIndex: d.EditIndex,
		Claimant: d.Claimant, Consent: d.Consent, Version: claims.ConsentVersion, Purposes: intake.Purposes}
	for i, it := range d.Items {
		iv := itemView{Index: i, Kind: it.Kind, Target: targetLabel(cs, v.Lang, it.Target), Details: h.details(v, it)}
		if t, err := intake.ParseInstant(it.OccurredAt, cs.Location); err == nil {
			iv.When = when(v.Lang, t)
		}
		iv.Decision, iv.Problems = ck.item(it)
		p.Items = append(p.Items, iv)
	}
	if e := d.Editing; e != nil {
		p.EditKinds = targets(cs, v.Lang, e.Kind)
		p.Failures = intake.Failures(e.Kind)
	}
	v.Page = p
	h.render(c, status, "claim", v)
}

// details lists the typed facts of an item for the list and the review.
func (h *handler) details(v *view, it itemForm) []string {
	var out []string
	if it.Failure != "" {
		out = append(out, v.T("failure_"+it.Failure))
	}
	if it.Purpose != "" {
		out = append(out, v.T("purpose_"+it.Purpose))
	}
	for _, a := range []struct{ key, val string }{{"field_expected_fare_krw", it.ExpectedFare}, {"field_alternative_cost_krw", it.AlternativeCost},
		{"field_amount_krw", it.Amount}, {"field_loss_krw", it.Loss}} {
		if n, err := parseWon(a.val); err == nil && n != nil && *n > 0 {
			out = append(out, v.T(a.key)+": "+v.T("won", "amount", damages.FormatWon(*n)))
		}
	}
	if it.Documented {
		out = append(out, v.T("item_documented"))
	}
	if it.Description != "" {
		out = append(out, it.Description)
	}
	return out
}

// claimStep handles every post of the form: it reads the step's fields into the draft, then
// does what the pressed button says.
func (h *handler) claimStep(c *gin.Context) {
	if !h.parseForm(c) {
		return
	}
	ctx := c.Request.Context()
	d, ok := decodeDraft(c.PostForm("draft"))
	if !csrfOK(c) {
		if !ok {
			h.fail(c, http.StatusForbidden, "csrf_failed")
			return
		}
		// The draft lives only in the page: the error page would lose it, and a reload would
		// post the stale token again. The step comes back as typed, with the browser's token
		// and nothing done, for the claimant to press again. Posts from other sites never get
		// here (crossOrigin).
		d.readFields(c)
		v := h.view(c, "claim_title")
		v.Message = v.T("csrf_retry")
		h.fillClaim(ctx, c, v, d, nil, nil, http.StatusForbidden)
		return
	}
	if !ok {
		v := h.view(c, "claim_title")
		v.Message = v.T("draft_lost")
		h.fillClaim(ctx, c, v, newDraft(), nil, nil, http.StatusOK)
		return
	}
	d.readFields(c)
	action := c.PostForm("action")
	v := h.view(c, "claim_title")
	if l, ok := strings.CutPrefix(action, "lang:"); ok && (l == "ko" || l == "en") {
		setLang(c, messages.Lang(l))
		v.Lang = messages.Lang(l)
		h.fillClaim(ctx, c, v, d, nil, nil, http.StatusOK)
		return
	}
	ck, err := h.checker(ctx, v.Lang)
	if err != nil {
		h.failErr(c, err)
		return
	}
	var errs []fieldError
	var result *decision
	verb, arg, _ := strings.Cut(action, ":")
	switch d.Step + "/" + verb {
	case stepCheck + "/check":
		result, errs = ck.check(d.Check)
	case stepCheck + "/next":
		d.Step = stepItems
		if len(d.Items) == 0 && d.Editing == nil {
			if _, e := ck.check(d.Check); e == nil {
				d.Editing, d.EditIndex = prefill(ck.b.Case, d.Check), -1
			}
		}
	case stepItems + "/add":
		if slices.Contains(caseKinds(ck.b.Case), arg) && len(d.Items) < intake.MaxItems {
			d.Editing, d.EditIndex = &itemForm{Kind: arg, Target: onlyTarget(ck.b.Case, arg)}, -1
		}
	case stepItems + "/edit":
		if i, err := strconv.Atoi(arg); err == nil && i >= 0 && i < len(d.Items) {
			e := d.Items[i]
			d.Editing, d.EditIndex = &e, i
		}
	case stepItems + "/remove":
		if i, err := strconv.Atoi(arg); err == nil && i >= 0 && i < len(d.Items) {
			d.Items = slices.Delete(d.Items, i, i+1)
			d.Editing, d.EditIndex = nil, -1
			v.Message = v.T("item_removed")
		}
	case stepItems + "/cancel":
		d.Editing, d.EditIndex = nil, -1
	case stepItems + "/save":
		if d.Editing == nil {
			break
		}
		if result, errs = ck.item(*d.Editing); errs == nil {
			result = nil
			if d.EditIndex >= 0 {
				d.Items[d.EditIndex] = *d.Editing
			} else {
				d.Items = append(d.Items, *d.Editing)
			}
			d.Editing, d.EditIndex = nil, -1
			v.Message = v.T("item_saved")
		}
	case stepItems + "/next":
		switch {
		case d.Editing != nil:
			errs = []fieldError{{ID: "target", Message: v.T("item_unsaved")}}
		case len(d.Items) == 0:
			errs = []fieldError{{ID: "add", Message: v.T("items_required")}}
		default:
			d.Step = stepContact
		}
	case stepItems + "/back":
		d.Step = stepCheck
	case stepContact + "/next":
		if errs = ck.contact(d.Claimant); errs == nil {
			d.Step = stepReview
		}
	case stepContact + "/back":
		d.Step = stepItems
	case stepReview + "/goto":
		if slices.Contains(steps, arg) {
			d.Step = arg
		}
	case stepReview + "/back":
		d.Step = stepContact
	case stepReview + "/submit":
		h.submit(c, v, ck, d)
		return
	}
	h.fillClaim(ctx, c, v, d, errs, result, http.StatusOK)
}

// prefill starts the first item from the self-check: its service decides the kind.
func prefill(cs *store.Case, f checkForm) *itemForm {
	svc, _, _ := strings.Cut(f.Target, "/")
	kind := intake.KindOther
	for _, s := range cs.Services {
		if s.Slug == svc {
			for _, k := range s.Kinds {
				if k != intake.KindOther {
					kind = k
					break
				}
			}
		}
	}
	return &itemForm{Kind: kind, Target: f.Target, OccurredAt: f.At}
}

// onlyTarget preselects the service and feature when a kind has only one choice.
func onlyTarget(cs *store.Case, kind string) string {
	var opts []string
	for _, g := range cs.Services {
		if slices.Contains(g.Kinds, kind) {
			for _, f := range g.Features {
				opts = append(opts, g.Slug+"/"+f.Slug)
			}
		}
	}
	if len(opts) == 1 {
		return opts[0]
	}
	return ""
}

// submit files the claim. A filled honeypot (a field people never see) gets a confirmation
// that looks real but stores nothing, so a bot learns nothing from the answer.
func (h *handler) submit(c *gin.Context, v *view, ck *checker, d *draft) {
	ctx := c.Request.Context()
	if strings.TrimSpace(c.PostForm("website")) != "" {
		h.log.InfoContext(ctx, "honeypot filled: claim not stored")
		v.Title = v.T("confirm_title")
		v.Page = confirmPage{Reference: auth.NewReference(), AccessCode: auth.NewAccessCode()}
		h.render(c, http.StatusOK, "confirm", v)
		return
	}
	if !h.submits.Allow(ratelimit.IPKey(c.ClientIP())) {
		// The review again, not the bare error page: the draft lives only in the page, and
		// the claimant who waits can press the button again.
		v.Message = v.T("submit_rate_limited", "seconds", h.submits.SetRetryAfter(c.Writer.Header()))
		h.fillClaim(ctx, c, v, d, nil, nil, http.StatusTooManyRequests)
		return
	}
	in := intake.ClaimInput{Consent: &d.Consent,
		Claimant: intake.ClaimantInput{Name: d.Claimant.Name, Email: d.Claimant.Email, Phone: d.Claimant.Phone, Locale: string(v.Lang)}}
	// The draft makes a second press of the button (or a reload) find the claim the first
	// press stored instead of filing it twice.
	ref := webExternalRef(d.ID)
	in.ExternalRef = &ref
	var perr []apperr.FieldError
	for i, it := range d.Items {
		item, e := it.input("items[" + strconv.Itoa(i) + "]")
		in.Items = append(in.Items, item)
		perr = append(perr, e...)
	}
	code := h.accessCode(d.ID)
	res, err := h.claims.Submit(ctx, h.caseSlug, in, claims.Meta{Channel: claims.ChannelWeb, IP: c.ClientIP(), AccessCode: code})
	if len(perr) > 0 && err == nil {
		err = apperr.Validation(perr) // cannot happen: Normalize rejects what parseWon rejects
	}
	if err != nil {
		if !apperr.Is(err, apperr.Invalid) {
			if apperr.Is(err, apperr.Conflict) {
				v.Message = v.T("claim_changed_after_submit")
				h.fillClaim(ctx, c, v, d, nil, nil, http.StatusConflict)
				return
			}
			h.failErr(c, err)
			return
		}
		errs := fieldErrors(v.Lang, err, func(path string) string {
			switch {
			case path == "consent":
				return "consent"
			case strings.HasPrefix(path, "claimant."):
				return "review-contact"
			case strings.HasPrefix(path, "items"):
				return "review-items"
			}
			return ""
		})
		order(errs, []string{"review-items", "review-contact", "consent"})
		h.fillClaim(ctx, c, v, d, errs, nil, http.StatusUnprocessableEntity)
		return
	}
	// The claim's code is the one derived here, whether this press stored it or a second press
	// (a double tap, a reload) found the one the first stored: its answer is the one the
	// browser shows, so it shows the code again. Not after a restart with another secret: the
	// page then says the claim was filed already, without the code, which is all it can say.
	p := confirmPage{Reference: res.Claim.Reference}
	v.Title = v.T("confirm_again_title")
	if auth.Equal(auth.HashAccessCode(code), res.Claim.AccessCodeHash) {
		p.AccessCode = code
		v.Title = v.T("confirm_title")
	}
	v.Page = p
	h.render(c, http.StatusOK, "confirm", v)
}

// webExternalRef is the external_ref of the claim filed from draft id. Staff see external
// refs (exports, the API), and the draft id with the claim's content is enough to be shown
// its access code again (submit): the ref holds a hash of the id, not the id. Claims filed
// before keep "web-" and the id itself.
func webExternalRef(draftID string) string {
	sum := sha256.Sum256([]byte(draftID))
	return "web-" + hex.EncodeToString(sum[:16])
}

// confirmPage is the answer to a submission: the reference, and the access code when the
// claimant may see it (empty: the claim was filed before and its code cannot be shown).
type confirmPage struct {
	Reference  string
	AccessCode string
}

// validateResponse is what the script gets: the errors of the step's fields and, when the
// step has one, the eligibility answer.
type validateResponse struct {
	Errors   []fieldError `json:"errors"`
	Decision *decision    `json:"decision,omitempty"`
}

// claimValidate runs the checks of the posted step with the same code as the plain form and
// answers JSON, for validation as the claimant types.
func (h *handler) claimValidate(c *gin.Context) {
	if !h.parseForm(c) || !h.checkCSRF(c) || h.limited(c, h.checks) {
		return
	}
	d, ok := decodeDraft(c.PostForm("draft"))
	if !ok {
		c.JSON(http.StatusBadRequest, gin.H{"error": "draft"})
		return
	}
	d.readFields(c)
	l := PageLang(c)
	ck, err := h.checker(c.Request.Context(), l)
	if err != nil {
		h.log.ErrorContext(c.Request.Context(), "validate failed", "err", err)
		c.JSON(http.StatusInternalServerError, gin.H{"error": "internal"})
		return
	}
	out := validateResponse{Errors: []fieldError{}}
	switch {
	case d.Step == stepCheck:
		out.Decision, out.Errors = ck.check(d.Check)
	case d.Step == stepItems && d.Editing != nil:
		out.Decision, out.Errors = ck.item(*d.Editing)
	case d.Step == stepContact:
		out.Errors = ck.contact(d.Claimant)
	}
	if out.Errors == nil {
		out.Errors = []fieldError{}
	}
	c.JSON(http.StatusOK, out)
}
