package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/api/web"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/ratelimit"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// testNow is after the outage, so its times are in the past.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// env is the pages over one fresh database, served over real HTTP.
type env struct {
	t   *testing.T
	st  *store.Store
	srv *httptest.Server
	// claims is the pages' claims service, on their clock (staff's acts in tests).
	claims *claims.Service
	cfg    web.Config
	// submits counts the posts of the claim form's final button; each waits submitDelay
	// first, as on a slow network.
	submits     atomic.Int64
	submitDelay atomic.Int64
}

type option func(*web.Config)

func newEnv(t *testing.T, dialect string, opts ...option) *env {
	t.Helper()
	st, _ := casedb.Open(t, dialect)
	// The clock starts at testNow and moves a microsecond at each reading, as a server's moves
	// between requests: what happens later is later (a sign-in after a sign-out), though all
	// within the same second.
	var ticks atomic.Int64
	now := func() time.Time { return testNow.Add(time.Duration(ticks.Add(1)) * time.Microsecond) }
	cfg := web.Config{Store: st, Claims: &claims.Service{Store: st, Now: now}, Now: now,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SubmitEvery: time.Millisecond, SubmitBurst: 1000}
	for _, o := range opts {
		o(&cfg)
	}
	return serve(t, st, cfg)
}

// serve serves the pages of cfg over st.
func serve(t *testing.T, st *store.Store, cfg web.Config) *env {
	t.Helper()
	e := &env{t: t, st: st, claims: cfg.Claims, cfg: cfg}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(e.countSubmits)
	web.Register(r, cfg)
	e.srv = httptest.NewServer(r)
	t.Cleanup(e.srv.Close)
	return e
}

// restart serves the pages of e's database again, as another process with opts.
func (e *env) restart(opts ...option) *env {
	e.t.Helper()
	cfg := e.cfg
	for _, o := range opts {
		o(&cfg)
	}
	return serve(e.t, e.st, cfg)
}

// countSubmits counts (and delays) the posts of the claim form's final button. The body is
// read here and put back for the pages.
func (e *env) countSubmits(c *gin.Context) {
	if c.Request.Method != http.MethodPost || c.Request.URL.Path != "/claim" {
		return
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		c.AbortWithStatus(http.StatusBadRequest)
		return
	}
	c.Request.Body = io.NopCloser(bytes.NewReader(body))
	if f, err := url.ParseQuery(string(body)); err == nil && f.Get("action") == "submit" {
		e.submits.Add(1)
		time.Sleep(time.Duration(e.submitDelay.Load()))
	}
}

// eachDB runs fn against PostgreSQL and SQLite, in parallel.
func eachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, d))
		})
	}
}

// browser is a client with cookies that does not follow redirects, like a person without
// JavaScript clicking through the pages.
type browser struct {
	t    *testing.T
	e    *env
	c    *http.Client
	lang string
	// last page's hidden fields
	csrf, draft string
}

type page struct {
	Status int
	Header http.Header
	Body   string
}

func (e *env) browser(lang string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, lang: lang, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var (
	csrfRe  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	draftRe = regexp.MustCompile(`name="draft" value="([^"]+)"`)
)

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	p := page{Status: res.StatusCode, Header: res.Header, Body: string(body)}
	if m := csrfRe.FindStringSubmatch(p.Body); m != nil {
		b.csrf = m[1]
	}
	if m := draftRe.FindStringSubmatch(p.Body); m != nil {
		b.draft = m[1]
	}
	return p
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	return b.do(req)
}

// post sends a form with the page's csrf token and draft; kv are field pairs.
func (b *browser) post(path string, kv ...string) page {
	b.t.Helper()
	f := url.Values{"csrf": {b.csrf}}
	if b.draft != "" && path == "/claim" || path == "/claim/validate" {
		f.Set("draft", b.draft)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *browser) upload(name string, content []byte) page {
	b.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("csrf", b.csrf)
	fw, _ := w.CreateFormFile("evidence", name)
	fw.Write(content)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+"/status/evidence", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

func want(t *testing.T, p page, status int, contains ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d; body:\n%s", p.Status, status, p.Body)
	}
	for _, s := range contains {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("page lacks %q; body:\n%s", s, p.Body)
		}
	}
}

func wantNot(t *testing.T, p page, absent ...string) {
	t.Helper()
	for _, s := range absent {
		if strings.Contains(p.Body, s) {
			t.Fatalf("page has %q; body:\n%s", s, p.Body)
		}
	}
}

var (
	refRe  = regexp.MustCompile(`id="reference"[^>]*>(CD-[0-9A-Z-]+)<`)
	codeRe = regexp.MustCompile(`id="access-code"[^>]*>([0-9A-Z-]+)<`)
)

// pngBytes is a small real PNG, as a phone photo of a receipt would be (only smaller).
func pngBytes(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	for x := 0; x < 40; x++ {
		for y := 0; y < 20; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 6), uint8(y * 12), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fileClaim walks the plain form from the self-check to the confirmation, with three items of
// different kinds, and returns the reference and access code.
func fileClaim(t *testing.T, b *browser) (ref, code string) {
	t.Helper()
	want(t, b.get("/claim"), 200, `name="check_target"`)

	// The self-check flags a time outside the windows, then accepts one inside.
	p := b.post("/claim", "action", "check", "check_target", "kakao_t/taxi", "check_at", "2022-10-20T10:00")
	want(t, p, 200, "result-ineligible")
	p = b.post("/claim", "action", "check", "check_target", "kakao_t/taxi", "check_at", "2022-10-15T18:30")
	want(t, p, 200, "result-eligible")
	// Next opens the first incident, prefilled from the check.
	p = b.post("/claim", "action", "next", "check_target", "kakao_t/taxi", "check_at", "2022-10-15T18:30")
	want(t, p, 200, `id="editor"`, `value="2022-10-15T18:30"`, `name="failure"`, `name="expected_fare_krw"`)
	wantNot(t, p, `name="amount_krw"`, `name="purpose"`)

	// A bad amount and a missing failure are shown next to their fields and in the summary.
	p = b.post("/claim", "action", "save", "target", "kakao_t/taxi", "occurred_at", "2022-10-15T18:30", "expected_fare_krw", "twelve")
	want(t, p, 200, `id="error-summary"`, `href="#f-expected_fare_krw"`, `href="#f-failure"`, `aria-invalid="true"`)
	p = b.post("/claim", "action", "save", "target", "kakao_t/taxi", "occurred_at", "2022-10-15T18:30", "failure", "no_driver",
		"expected_fare_krw", "12,000", "alternative_cost_krw", "25000원", "documented", "yes")
	want(t, p, 200, "badge-eligible")
	wantNot(t, p, `id="editor"`, `id="error-summary"`)

	p = b.post("/claim", "action", "add:payment")
	want(t, p, 200, `name="amount_krw"`)
	p = b.post("/claim", "action", "save", "target", "kakao_pay/payments", "occurred_at", "2022-10-15T20:00", "failure", "payment_failed", "amount_krw", "45,000")
	want(t, p, 200, "45,000")

	p = b.post("/claim", "action", "add:message")
	want(t, p, 200, `name="purpose"`, `name="ended_at"`)
	p = b.post("/claim", "action", "save", "target", "kakaotalk/text", "occurred_at", "2022-10-16T09:00", "ended_at", "2022-10-16T12:00",
		"purpose", "business", "loss_krw", "300,000", "description", "가게 예약 문의를 받지 못함")
	want(t, p, 200, "badge-eligible_degraded")

	// Edit and remove work on the list.
	b.post("/claim", "action", "add:other")
	p = b.post("/claim", "action", "save", "target", "daum/mail", "occurred_at", "2022-10-25T09:00")
	want(t, p, 200, "badge-ineligible")
	p = b.post("/claim", "action", "remove:3")
	wantNot(t, p, "badge-ineligible")
	p = b.post("/claim", "action", "edit:1")
	want(t, p, 200, `value="45,000"`)
	b.post("/claim", "action", "save", "target", "kakao_pay/payments", "occurred_at", "2022-10-15T20:00", "failure", "payment_failed", "amount_krw", "45000")

	p = b.post("/claim", "action", "next")
	want(t, p, 200, `name="email"`)
	p = b.post("/claim", "action", "next", "name", "김민지")
	want(t, p, 200, `href="#f-email"`)
	p = b.post("/claim", "action", "next", "name", "김민지", "email", "MinJi@Example.com", "phone", "010-1234-5678")
	want(t, p, 200, `name="consent"`, "김민지", "2022-10-v1")

	p = b.post("/claim", "action", "submit")
	want(t, p, 422, `href="#f-consent"`)
	p = b.post("/claim", "action", "submit", "consent", "yes")
	want(t, p, 200, `id="access-code"`)
	ref, code = refRe.FindStringSubmatch(p.Body)[1], codeRe.FindStringSubmatch(p.Body)[1]

	// Pressing submit again (a reload) finds the same claim instead of filing a second one,
	// and shows its code again (TestSubmitTwiceShowsTheCodeTwice).
	p = b.post("/claim", "action", "submit", "consent", "yes")
	want(t, p, 200, ref, `id="access-code" aria-labelledby="code-label">`+code+`<`)
	return ref, code
}

func TestClaimWithoutJavaScript(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		b := e.browser("ko")
		ref, code := fileClaim(t, b)

		cl, err := e.st.ClaimByReference(context.Background(), ref)
		if err != nil {
			t.Fatal(err)
		}
		if cl.Channel != claims.ChannelWeb || cl.ConsentIP == "" || cl.ConsentVersion != claims.ConsentVersion || cl.ClaimantLocale != "ko" ||
			cl.ClaimantEmail != "minji@example.com" || cl.ClaimantPhone != "+821012345678" || len(cl.Items) != 3 {
			t.Fatalf("stored claim: %+v", cl)
		}
		if it := cl.Items[0]; it.Kind != "taxi_booking" || it.ExpectedFareKRW != 12000 || it.AlternativeCostKRW != 25000 || !it.Documented {
			t.Fatalf("item 0: %+v", it)
		}
		if it := cl.Items[1]; it.Kind != "payment" || it.AmountKRW != 45000 {
			t.Fatalf("item 1: %+v", it)
		}
		if it := cl.Items[2]; it.Kind != "message" || it.LossKRW != 300000 || it.Purpose != "business" || it.EndedAt == nil {
			t.Fatalf("item 2: %+v", it)
		}

		// Status: a wrong code is refused like an unknown reference.
		want(t, b.get("/status?reference="+ref), 200, `value="`+ref+`"`)
		want(t, b.post("/status", "reference", ref, "access_code", "0000-0000-0000-0000"), 401, `href="#f-reference"`)
		want(t, b.post("/status", "reference", "CD-0000-0000-0000", "access_code", code), 401)
		p := b.post("/status", "reference", strings.ToLower(ref), "access_code", strings.ReplaceAll(code, "-", ""))
		if p.Status != http.StatusSeeOther {
			t.Fatalf("lookup: %d %s", p.Status, p.Body)
		}
		p = b.get("/status")
		want(t, p, 200, `id="claim-status"`, "접수됨", "장애 구간", `name="evidence"`)
		wantNot(t, p, "예상 금액") // counsel has not allowed estimates

		// Evidence: content decides the type, not the name.
		want(t, b.upload("receipt.png", []byte("this is not a picture")), 422, "JPEG, PNG, PDF, HEIC")
		pngData := pngBytes(t)
		if p := b.upload("영수증.jpg", pngData); p.Status != http.StatusSeeOther {
			t.Fatalf("upload: %d %s", p.Status, p.Body)
		}
		p = b.get("/status?done=evidence")
		want(t, p, 200, "영수증.jpg", "image/png", "파일을 올렸습니다")
		ev, err := e.st.ListEvidence(context.Background(), cl.ID)
		if err != nil || len(ev) != 1 {
			t.Fatalf("evidence: %v %v", ev, err)
		}
		var audited int64
		e.st.Gorm().Model(&models.AuditEvent{}).Where("action = ? AND entity_id = ?", "add_evidence", ref).Count(&audited)
		if audited != 1 {
			t.Fatalf("%d audit events for the upload", audited)
		}
		f := b.get("/status/evidence/" + itoa(ev[0].ID))
		if f.Status != 200 || f.Header.Get("Content-Type") != "image/png" || f.Body != string(pngData) || !strings.HasPrefix(f.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("download: %d %v", f.Status, f.Header)
		}
		// Nobody else gets the file: not a stranger, not an importer token; a lawyer does.
		if p := e.browser("ko").get("/status/evidence/" + itoa(ev[0].ID)); p.Status != http.StatusSeeOther {
			t.Fatalf("anonymous download: %d", p.Status)
		}
		for role, status := range map[string]int{"importer": http.StatusSeeOther, "lawyer": http.StatusOK} {
			tok := casedb.Token(t, e.st, auth.Role(role), role)
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/status/evidence/"+itoa(ev[0].ID), nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			if p := e.browser("").do(req); p.Status != status || (status == 200 && p.Body != string(pngData)) {
				t.Fatalf("%s download: %d", role, p.Status)
			}
		}

		// Contact details can be corrected, with the API's rules.
		want(t, b.post("/status/contact", "name", "김민지", "email", "not-an-email"), 422, `href="#f-email"`, "name@example.com")
		if p := b.post("/status/contact", "name", "김민지", "email", "new@example.com", "phone", ""); p.Status != http.StatusSeeOther {
			t.Fatalf("contact: %d %s", p.Status, p.Body)
		}
		cl, _ = e.st.ClaimByReference(context.Background(), ref)
		if cl.ClaimantEmail != "new@example.com" || cl.ClaimantPhone != "" {
			t.Fatalf("contact not saved: %+v", cl)
		}

		// Withdrawing asks first, then closes the claim for good, and signs the claimant out
		// (it ends every session of the claim: TestActsEndCopiedSessions).
		want(t, b.get("/status/withdraw"), 200, `id="withdraw-confirm"`, ref)
		if p := b.post("/status/withdraw", "confirm", "yes"); p.Status != http.StatusSeeOther {
			t.Fatalf("withdraw: %d", p.Status)
		}
		p = b.get("/status?done=withdrawn")
		want(t, p, 200, "청구를 철회했습니다", `name="access_code"`)
		wantNot(t, p, `id="claim-status"`)
		cl, _ = e.st.ClaimByReference(context.Background(), ref)
		if cl.Status != "withdrawn" {
			t.Fatalf("status %q", cl.Status)
		}
		// Signed in again, the claimant sees it withdrawn, and can add nothing.
		if p := b.post("/status", "reference", ref, "access_code", code); p.Status != http.StatusSeeOther {
			t.Fatalf("lookup after withdrawal: %d %s", p.Status, p.Body)
		}
		p = b.get("/status")
		want(t, p, 200, "철회됨")
		wantNot(t, p, `name="evidence"`, `id="withdraw-link"`)
		want(t, b.upload("r.png", pngData), 422, "철회되었거나")
		svc := &claims.Service{Store: e.st, Now: func() time.Time { return testNow }}
		if err := svc.Withdraw(context.Background(), cl, audit.Actor{Kind: audit.ActorClaimant}); err == nil {
			t.Fatal("withdrew a withdrawn claim twice")
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A claimant signed in to the status page of a claim an admin has erased cannot put personal
// data back on it: contact details and files are refused with the reason, nothing is stored
// (an erased claim is never erased again). The erasure ended the session they had; signed in
// anew, they are refused by the store.
func TestErasedClaimTakesNoChanges(t *testing.T) {
	e := newEnv(t, "sqlite")
	b := e.browser("ko")
	ref, code := fileClaim(t, b)
	if p := b.post("/status", "reference", ref, "access_code", code); p.Status != http.StatusSeeOther {
		t.Fatalf("lookup: %d %s", p.Status, p.Body)
	}
	b.get("/status") // the page's form token
	cl, err := e.st.ClaimByReference(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := e.claims.Erase(context.Background(), cl, audit.Actor{Kind: audit.ActorToken, Name: "admin"}, "request"); !ok || err != nil {
		t.Fatalf("erase: %v %v", ok, err)
	}
	if p := b.post("/status/contact", "name", "김민지", "email", "back@example.com"); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/status" {
		t.Fatalf("contact in the session the erasure ended: %d %s", p.Status, p.Header.Get("Location"))
	}
	if p := b.post("/status", "reference", ref, "access_code", code); p.Status != http.StatusSeeOther {
		t.Fatalf("lookup after erasure: %d %s", p.Status, p.Body)
	}
	b.get("/status")
	want(t, b.post("/status/contact", "name", "김민지", "email", "back@example.com"), http.StatusConflict, "바꿀 수 없습니다")
	want(t, b.upload("r.png", pngBytes(t)), 422, "바꿀 수 없습니다")
	cl, _ = e.st.ClaimByReference(context.Background(), ref)
	if ev, _ := e.st.ListEvidence(context.Background(), cl.ID); cl.ClaimantEmail != "" || cl.ClaimantName != "" || len(ev) != 0 {
		t.Fatalf("stored on an erased claim: %q %q, %d files", cl.ClaimantName, cl.ClaimantEmail, len(ev))
	}
}

func TestEnglishAndLanguageSwitch(t *testing.T) {
	e := newEnv(t, "sqlite")
	b := e.browser("")
	want(t, b.get("/"), 200, `<html lang="ko">`, "청구 접수하기")
	p := b.get("/?lang=en")
	want(t, p, 200, `<html lang="en">`, "File a claim", "Outage periods by feature")
	// The cookie remembers the choice.
	want(t, b.get("/claim"), 200, `<html lang="en">`, "Quick check")
	// The form's language buttons keep the draft.
	b.post("/claim", "action", "next", "check_target", "kakao_t/taxi", "check_at", "2022-10-15T18:30")
	p = b.post("/claim", "action", "lang:ko", "target", "kakao_t/taxi", "occurred_at", "2022-10-15T18:30")
	want(t, p, 200, `<html lang="ko">`, `value="2022-10-15T18:30"`, "택시 호출")
	// Accept-Language works without a cookie; field messages are the API's.
	b2 := e.browser("en-US,en;q=0.9")
	b2.get("/claim")
	p = b2.post("/claim", "action", "check", "check_target", "kakao_t/taxi", "check_at", "tomorrow")
	want(t, p, 200, "The format is invalid.", "There is a problem")
}

func TestValidateEndpoint(t *testing.T) {
	e := newEnv(t, "sqlite")
	b := e.browser("en")
	b.get("/claim")
	p := b.post("/claim/validate", "check_target", "kakao_t/taxi", "check_at", "2022-10-20T10:00")
	var res struct {
		Errors   []struct{ ID, Message string }
		Decision *struct{ Status, Label, Text string }
	}
	if err := json.Unmarshal([]byte(p.Body), &res); err != nil || p.Status != 200 {
		t.Fatalf("%d %s", p.Status, p.Body)
	}
	if len(res.Errors) != 0 || res.Decision == nil || res.Decision.Status != "ineligible" || !strings.Contains(res.Decision.Text, "Kakao T · Taxi hailing") {
		t.Fatalf("%+v", res)
	}
	// The item editor: the same messages as the API.
	b.post("/claim", "action", "next")
	b.post("/claim", "action", "add:payment")
	p = b.post("/claim/validate", "target", "kakao_pay/payments", "occurred_at", "2030-01-01T00:00", "amount_krw", "1,2,3x")
	if !strings.Contains(p.Body, `"id":"occurred_at","message":"Must not be in the future."`) || !strings.Contains(p.Body, `"id":"amount_krw"`) || !strings.Contains(p.Body, `"id":"failure"`) {
		t.Fatalf("%s", p.Body)
	}
}

// An amount too large for int64 is out of the amount's range, in the words the form uses for
// one just over the limit (intake's declaration of the krw range): it said "Enter the amount as
// a number", which the claimant had done.
func TestAmountBeyondInt64(t *testing.T) {
	e := newEnv(t, "sqlite")
	for _, tc := range []struct{ lang, want string }{
		{"ko", "0에서 1000000000 사이여야 합니다."},
		{"en", "Must be between 0 and 1000000000."},
	} {
		b := e.browser(tc.lang)
		b.get("/claim")
		b.post("/claim", "action", "next")
		b.post("/claim", "action", "add:payment")
		for _, amount := range []string{"1,000,000,001", "99,999,999,999,999,999,999원", "9223372036854775808", "-99999999999999999999"} {
			p := b.post("/claim/validate", "target", "kakao_pay/payments", "occurred_at", "2022-10-15T20:00", "failure", "payment_failed", "amount_krw", amount)
			var res struct {
				Errors []struct{ ID, Message string }
			}
			if err := json.Unmarshal([]byte(p.Body), &res); err != nil || p.Status != 200 {
				t.Fatalf("%s %s: %d %s", tc.lang, amount, p.Status, p.Body)
			}
			var got []string
			for _, fe := range res.Errors {
				got = append(got, fe.ID+": "+fe.Message)
			}
			if want := []string{"amount_krw: " + tc.want}; !slices.Equal(got, want) {
				t.Errorf("%s %s: %q, want %q", tc.lang, amount, got, want)
			}
		}
	}
}

func TestSecurity(t *testing.T) {
	e := newEnv(t, "sqlite")
	b := e.browser("ko")
	p := b.get("/")
	for k, v := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'", "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
	} {
		if !strings.Contains(p.Header.Get(k), v) {
			t.Errorf("%s = %q, want %q", k, p.Header.Get(k), v)
		}
	}
	if csp := p.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %s", csp)
	}
	// No inline scripts or styles in any page, so the CSP holds.
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|style="|<style`).MatchString(p.Body) {
		t.Error("inline script or style on the case page")
	}

	b.get("/claim")
	// A post without the form's token, or from another site, is refused.
	good := b.csrf
	b.csrf = "forged"
	want(t, b.post("/claim", "action", "check"), 403)
	b.csrf = good
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/claim", strings.NewReader(url.Values{"csrf": {good}, "draft": {b.draft}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	want(t, b.do(req), 403)
	// Oversized forms are refused.
	want(t, b.post("/claim", "action", "check", "description", strings.Repeat("x", web.MaxFormBytes)), 413)
	// A tampered draft starts over instead of failing.
	b.draft = "!!"
	want(t, b.post("/claim", "action", "next"), 200, `name="check_target"`)

	// An upload without a status session goes to the status sign-in before its body is read
	// (a malformed one included: nobody learns anything, nobody makes us parse 10 MB).
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/status/evidence", strings.NewReader("--x\r\nnot a part"))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/status" {
		t.Errorf("upload without a session: %d to %q, want 303 to /status", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestHoneypot(t *testing.T) {
	e := newEnv(t, "sqlite")
	b := e.browser("ko")
	b.get("/claim")
	b.post("/claim", "action", "next", "check_target", "kakao_t/taxi", "check_at", "2022-10-15T18:30")
	b.post("/claim", "action", "save", "target", "kakao_t/taxi", "occurred_at", "2022-10-15T18:30", "failure", "no_driver")
	b.post("/claim", "action", "next")
	b.post("/claim", "action", "next", "name", "bot", "email", "bot@example.com")
	p := b.post("/claim", "action", "submit", "consent", "yes", "website", "http://spam.example")
	want(t, p, 200, `id="access-code"`)
	var n int64
	e.st.Gorm().Model(&models.Claim{}).Count(&n)
	if n != 0 {
		t.Fatalf("honeypot stored %d claims", n)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *web.Config) { c.CodeFailures = ratelimit.New(time.Hour, 2) })
	b := e.browser("ko")
	b.get("/status")
	var p page
	for i, st := range []int{401, 401, 429} {
		if p = b.post("/status", "reference", "CD-0000-0000-0000", "access_code", "x"); p.Status != st {
			t.Fatalf("lookup %d: %d, want %d", i, p.Status, st)
		}
	}
	// The wait is the refusing budget's: one more wrong code in an hour.
	if got := p.Header.Get("Retry-After"); got != "3600" {
		t.Errorf("Retry-After %q, want 3600", got)
	}
}

func TestEstimateShownWhenCounselAllows(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *web.Config) { s := web.Defaults("kakao-2022"); s.ShowEstimate = true; c.Settings = &s })
	b := e.browser("ko")
	ref, code := fileClaim(t, b)
	b.post("/status", "reference", ref, "access_code", code)
	want(t, b.get("/status"), 200, "예상 금액")
}

func TestPagesRender(t *testing.T) {
	e := newEnv(t, "sqlite")
	for _, lang := range []string{"ko", "en"} {
		b := e.browser(lang)
		for _, path := range []string{"/", "/claim", "/status"} {
			p := b.get(path)
			want(t, p, 200)
			// A missing catalogue key renders as the key itself: none may show.
			if m := regexp.MustCompile(`>\s*[a-z]+(_[a-z0-9]+)+\s*<`).FindString(p.Body); m != "" {
				t.Errorf("%s %s shows a bare key: %s", lang, path, m)
			}
		}
	}
	if p := e.browser("ko").get("/static/site.css"); p.Status != 200 || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("css: %d %s", p.Status, p.Header.Get("Content-Type"))
	}
}

func TestTemplateKeysExist(t *testing.T) {
	keyRe := regexp.MustCompile(`\.T "([a-z_0-9]+)"`)
	files, _ := os.ReadDir("templates")
	for _, f := range files {
		b, err := os.ReadFile("templates/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
			if !hasKey(m[1]) {
				t.Errorf("%s: no catalogue text for %q", f.Name(), m[1])
			}
		}
	}
}

func hasKey(k string) bool { return messages.Has(k) }

func TestDeficiencyNotice(t *testing.T) {
	e := newEnv(t, "sqlite")
	b := e.browser("ko")
	ref, code := fileClaim(t, b)
	ctx := context.Background()
	cl, err := e.st.ClaimByReference(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	svc := &claims.Service{Store: e.st, Now: func() time.Time { return testNow }}
	days := 14
	for _, to := range []string{lifecycle.UnderReview, lifecycle.Deficient} {
		req := lifecycle.Request{To: to}
		if to == lifecycle.Deficient {
			req.Reasons, req.CureDays, req.Note = []string{lifecycle.ReasonMissingEvidence, lifecycle.ReasonOther}, &days, "internal note"
		}
		if _, err := svc.Transition(ctx, cl, req, audit.Actor{Kind: audit.ActorToken, Name: "lawyer"}); err != nil {
			t.Fatalf("to %s: %v", to, err)
		}
	}
	b.post("/status", "reference", ref, "access_code", code)
	p := b.get("/status")
	want(t, p, 200, `id="deficiency"`, "영수증, 결제 내역", "보완 기한: 2026년 12월", `name="evidence"`)
	// Internal reasons and notes are not the claimant's to read.
	wantNot(t, p, "기타 (메모 참조)", "internal note")
}

// TestDynamicKeysExist checks the texts the pages name by prefix and code.
func TestDynamicKeysExist(t *testing.T) {
	var keys []string
	for _, k := range intake.Kinds {
		keys = append(keys, "kind_"+k, "kind_help_"+k)
		for _, f := range intake.Failures(k) {
			keys = append(keys, "failure_"+f)
		}
	}
	for _, p := range intake.Purposes {
		keys = append(keys, "purpose_"+p)
	}
	for _, s := range lifecycle.Statuses {
		keys = append(keys, "status_"+s, "status_help_"+s)
	}
	for _, s := range []string{"eligible", "eligible_degraded", "ineligible"} {
		keys = append(keys, "answer_"+s, "badge_"+s)
	}
	for _, s := range []string{"down", "degraded"} {
		keys = append(keys, "severity_"+s, "period_"+s)
	}
	for _, s := range []string{"check", "items", "contact", "review"} {
		keys = append(keys, "step_"+s)
	}
	for _, s := range []string{"withdrawn", "contact", "evidence"} {
		keys = append(keys, "done_"+s)
	}
	for d := range 7 {
		keys = append(keys, "weekday_"+string(rune('0'+d)))
	}
	for _, id := range []string{"target", "check_at", "occurred_at", "ended_at", "failure", "purpose", "expected_fare_krw", "alternative_cost_krw", "amount_krw", "loss_krw", "documented", "description", "name", "email", "phone"} {
		keys = append(keys, "field_"+id)
	}
	for _, k := range keys {
		if !hasKey(k) {
			t.Errorf("no catalogue text for %q", k)
		}
	}
}
