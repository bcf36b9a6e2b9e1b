package api

import (
	"net/http"

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

// ClaimResponse is a claim as the API shows it. The access code appears once, in the answer
// that created the claim; the claimant block only to staff and to the claimant.
type ClaimResponse struct {
	Reference   string            `json:"reference,omitempty"`
	AccessCode  string            `json:"access_code,omitempty"`
	Case        string            `json:"case"`
	Status      string            `json:"status"`
	Channel     string            `json:"channel"`
	ExternalRef *string           `json:"external_ref,omitempty"`
	SubmittedAt string            `json:"submitted_at,omitempty"`
	ErasedAt    string            `json:"erased_at,omitempty"`
	EstimateKRW *int64            `json:"estimate_krw"`
	Claimant    *ClaimantResponse `json:"claimant,omitempty"`
	Items       []ItemResponse    `json:"items"`
	// Review is for staff only: fraud score and signals, cure deadline, duplicate_of.
	Review *ReviewResponse `json:"review,omitempty"`
}

// ClaimantResponse is the claimant's contact data.
type ClaimantResponse struct {
	Name   string `json:"name"`
	Email  string `json:"email,omitempty"`
	Phone  string `json:"phone,omitempty"`
	Locale string `json:"locale"`
}

// ItemResponse is one item with its eligibility.
type ItemResponse struct {
	Position           int                 `json:"position"`
	Kind               string              `json:"kind"`
	Service            string              `json:"service"`
	Feature            string              `json:"feature"`
	OccurredAt         string              `json:"occurred_at"`
	EndedAt            *string             `json:"ended_at,omitempty"`
	Failure            string              `json:"failure,omitempty"`
	Purpose            string              `json:"purpose,omitempty"`
	ExpectedFareKRW    int64               `json:"expected_fare_krw"`
	AlternativeCostKRW int64               `json:"alternative_cost_krw"`
	AmountKRW          int64               `json:"amount_krw"`
	LossKRW            int64               `json:"loss_krw"`
	Documented         bool                `json:"documented"`
	Description        string              `json:"description,omitempty"`
	Eligibility        EligibilityResponse `json:"eligibility"`
}

// EligibilityResponse is the decision on an item and the window that made it (for an
// ineligible item, the nearest window is named in the message and given in nearest_window).
type EligibilityResponse struct {
	Status        string          `json:"status"`
	Code          string          `json:"code"`
	Message       string          `json:"message"`
	Window        *WindowResponse `json:"window,omitempty"`
	NearestWindow *WindowResponse `json:"nearest_window,omitempty"`
}

// ClaimListResponse is a page of claims.
type ClaimListResponse struct {
	Claims     []ClaimResponse `json:"claims"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

func (s *Server) createClaim(c *gin.Context) {
	var in intake.ClaimInput
	if err := bindJSON(c, &in); err != nil {
		writeError(c, s.claims.Problems(c.Request.Context(), c.Param("case"), in, err))
		return
	}
	res, err := s.claims.Submit(c.Request.Context(), c.Param("case"), in, claims.Meta{Channel: claims.ChannelAPI, IP: c.ClientIP(), Actor: actorOf(c)})
	if err != nil {
		writeError(c, err)
		return
	}
	status := http.StatusCreated
	if !res.Created {
		status = http.StatusOK
	}
	out := claimResponse(res.Case, res.Claim, messages.FromRequest(c.Request))
	out.AccessCode = res.AccessCode
	c.JSON(status, out)
}

func (s *Server) validateClaim(c *gin.Context) {
	var in intake.ClaimInput
	if err := bindJSON(c, &in); err != nil {
		writeError(c, s.claims.Problems(c.Request.Context(), c.Param("case"), in, err))
		return
	}
	res, err := s.claims.Validate(c.Request.Context(), c.Param("case"), in, claims.Meta{Channel: claims.ChannelAPI, IP: c.ClientIP()})
	if err != nil {
		writeError(c, err)
		return
	}
	out := claimResponse(res.Case, res.Claim, messages.FromRequest(c.Request))
	out.Status, out.SubmittedAt = "valid", ""
	c.JSON(http.StatusOK, out)
}

func (s *Server) getClaim(c *gin.Context) {
	cl, cs, ok := s.authorizedClaim(c)
	if !ok {
		return
	}
	out := claimResponse(cs, cl, messages.FromRequest(c.Request))
	if principal(c).Can(auth.Admin, auth.Lawyer) {
		reviews, err := s.reviewResponses(c, cs, []*models.Claim{cl})
		if err != nil {
			writeError(c, err)
			return
		}
		out.Review = reviews[cl.ID]
	}
	c.JSON(http.StatusOK, out)
}

// authorizedClaim loads the claim named in the path for staff, or for the claimant who shows
// its access code in X-Access-Code. Otherwise it answers the request and returns ok false.
func (s *Server) authorizedClaim(c *gin.Context) (*models.Claim, *store.Case, bool) {
	ctx := c.Request.Context()
	p := principal(c)
	staff := p.Can(auth.Admin, auth.Lawyer)
	code := c.GetHeader("X-Access-Code")
	if !staff && code == "" {
		if p != nil {
			writeError(c, apperr.New(apperr.Forbidden, ""))
		} else {
			writeError(c, apperr.New(apperr.Unauthorized, ""))
		}
		return nil, nil, false
	}
	// Unknown reference and wrong code answer the same, so neither can be probed; and wrong
	// codes are limited per IP and per reference, so neither can be guessed at length. The
	// status page counts in the same budget, under the same keys (api/web/status.go). The
	// attempt is taken before the code is checked and given back unless the code is wrong:
	// checking first and counting after would let attempts made at once all through.
	ref := auth.CanonicalReference(c.Param("reference"))
	var attempt *ratelimit.Attempt
	if !staff {
		var ok bool
		attempt, ok = ratelimit.Try(ratelimit.Key{Limiter: s.codeFailures, Name: ratelimit.IPKey(c.ClientIP())}, ratelimit.Key{Limiter: s.codeFailures, Name: "ref:" + ref})
		if !ok {
			s.codeFailures.SetRetryAfter(c.Writer.Header())
			writeError(c, apperr.New(apperr.RateLimited, ""))
			return nil, nil, false
		}
	}
	defer attempt.Done()
	denied := func() {
		attempt.Failed()
		writeError(c, &apperr.Error{Code: apperr.NotFound, Message: "bad_access_code"})
	}
	if ref == "" {
		denied()
		return nil, nil, false
	}
	cl, err := s.store.ClaimByReference(ctx, ref)
	if err != nil {
		if !staff && apperr.Is(err, apperr.NotFound) {
			denied()
			return nil, nil, false
		}
		writeError(c, err)
		return nil, nil, false
	}
	if !staff && !auth.Equal(auth.HashAccessCode(code), cl.AccessCodeHash) {
		denied()
		return nil, nil, false
	}
	cs, err := s.claims.CaseByID(ctx, cl.CaseID)
	if err != nil {
		writeError(c, err)
		return nil, nil, false
	}
	return cl, cs, true
}

func (s *Server) listClaims(c *gin.Context) {
	ctx := c.Request.Context()
	cs, err := s.claims.Case(ctx, c.Param("case"))
	if err != nil {
		writeError(c, err)
		return
	}
	f, err := claimFilter(c, cs)
	if err != nil {
		writeError(c, err)
		return
	}
	list, next, err := s.store.ListClaims(ctx, f)
	if err != nil {
		writeError(c, err)
		return
	}
	lang := messages.FromRequest(c.Request)
	ptrs := make([]*models.Claim, len(list))
	for i := range list {
		ptrs[i] = &list[i]
	}
	reviews, err := s.reviewResponses(c, cs, ptrs)
	if err != nil {
		writeError(c, err)
		return
	}
	out := ClaimListResponse{Claims: make([]ClaimResponse, len(list)), NextCursor: next}
	for i := range list {
		out.Claims[i] = claimResponse(cs, &list[i], lang)
		out.Claims[i].Review = reviews[list[i].ID]
	}
	c.JSON(http.StatusOK, out)
}

// claimFilter reads the list's query parameters (the one reading, shared with the lawyers'
// claims page); each bad one is reported by name.
func claimFilter(c *gin.Context, cs *store.Case) (store.ClaimFilter, error) {
	return claims.ListFilter(cs, c.Request.URL.Query())
}

func claimResponse(cs *store.Case, cl *models.Claim, lang messages.Lang) ClaimResponse {
	out := ClaimResponse{Reference: cl.Reference, Case: cs.Slug, Status: cl.Status, Channel: cl.Channel,
		ExternalRef: cl.ExternalRef, EstimateKRW: cl.EstimateKRW, Items: make([]ItemResponse, len(cl.Items))}
	if !cl.SubmittedAt.IsZero() {
		out.SubmittedAt = localTime(cl.SubmittedAt, cs.Location)
	}
	if cl.ErasedAt != nil {
		out.ErasedAt = localTime(*cl.ErasedAt, cs.Location)
	}
	// Every caller of claimResponse is staff or the claimant (who sent or proved the data).
	out.Claimant = &ClaimantResponse{Name: cl.ClaimantName, Email: cl.ClaimantEmail, Phone: cl.ClaimantPhone, Locale: cl.ClaimantLocale}
	windows := cs.DomainWindows()
	for i := range cl.Items {
		it := &cl.Items[i]
		r := ItemResponse{Position: it.Position, Kind: it.Kind, Service: it.Service, Feature: it.Feature,
			OccurredAt: localTime(it.OccurredAt, cs.Location), Failure: it.Failure, Purpose: it.Purpose,
			ExpectedFareKRW: it.ExpectedFareKRW, AlternativeCostKRW: it.AlternativeCostKRW, AmountKRW: it.AmountKRW, LossKRW: it.LossKRW,
			Documented: it.Documented, Description: it.Description}
		if it.EndedAt != nil {
			e := localTime(*it.EndedAt, cs.Location)
			r.EndedAt = &e
		}
		r.Eligibility = eligibilityResponse(cs, windows, it, lang)
		out.Items[i] = r
	}
	return out
}

// eligibilityResponse shows the stored decision of an item with its window. For an ineligible
// item it names the nearest window of the item's service and feature.
func eligibilityResponse(cs *store.Case, windows []damages.Window, it *models.ClaimItem, lang messages.Lang) EligibilityResponse {
	r := EligibilityResponse{Status: it.Eligibility, Code: it.EligibilityCode}
	named, nearest := claims.DecidingWindow(cs, windows, it)
	if named != nil {
		w := windowResponse(named, cs.Location)
		if nearest {
			r.NearestWindow = &w
		} else {
			r.Window = &w
		}
	}
	r.Message = claims.EligibilityText(lang, cs, named, it.EligibilityCode)
	return r
}
