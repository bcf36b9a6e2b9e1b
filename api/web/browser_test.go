package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/browsertest"
)

// The browser tests drive the pages in a real headless Chromium (internal/browsertest): the
// whole claim in Korean and in English with JavaScript, the plain form without it,
// screenshots at a phone and a desktop size (artifacts/screenshots/) and axe-core's
// accessibility rules inside the pages. One browser serves every subtest; each gets its own
// tab.

func TestBrowser(t *testing.T) {
	e := newEnv(t, "sqlite")
	br := browsertest.Start(t, e.srv.URL)
	receipt := filepath.Join(t.TempDir(), "receipt.png")
	if err := os.WriteFile(receipt, pngBytes(t), 0o644); err != nil {
		t.Fatal(err)
	}
	newTab := func(t *testing.T, js bool) *browsertest.Tab {
		tb := br.Tab(t, js)
		// The live validation marks its form while it waits for the server.
		tb.Pending = "form[data-pending]"
		return tb
	}

	t.Run("korean", func(t *testing.T) {
		tb := newTab(t, true)
		ref := fileInBrowser(tb, "ko", receipt)
		if ref == "" {
			return
		}
	})
	t.Run("english", func(t *testing.T) {
		tb := newTab(t, true)
		fileInBrowser(tb, "en", receipt)
	})
	t.Run("no-javascript", func(t *testing.T) {
		tb := newTab(t, false)
		fileInBrowser(tb, "ko", receipt)
	})
	t.Run("double-tap", func(t *testing.T) {
		doubleTap(newTab(t, true), e)
	})
}

// doubleTap taps the final button twice on a slow network: the second tap sends nothing (it
// would have replaced the answer showing the access code), and the code shown opens the claim.
func doubleTap(b *browsertest.Tab, e *env) {
	t := b.T
	b.Open("/claim?lang=ko")
	b.Set("f-check_target", "kakao_t/taxi")
	b.Set("f-check_at", "2022-10-15T18:30")
	b.Press(`button[value="next"]`)
	b.Click("#f-failure-no_driver")
	b.Press(`button[value="save"]`)
	b.Press(`button[value="next"]`)
	b.Set("f-name", "김민지")
	b.Set("f-email", "claimant@example.com")
	b.Press(`button[value="next"]`)
	b.Click("#f-consent")

	// Taps at the button's place: a second query of the page would wait for the first tap's
	// page to load.
	b.Do(chromedp.ScrollIntoView(chromedp.ID("submit-claim")))
	var x, y float64
	if _, err := fmt.Sscan(b.Eval(`(function () { var r = document.getElementById("submit-claim").getBoundingClientRect(); return (r.left + r.width / 2) + " " + (r.top + r.height / 2); })()`), &x, &y); err != nil {
		t.Fatal(err)
	}
	before := e.submits.Load()
	e.submitDelay.Store(int64(time.Second))
	defer e.submitDelay.Store(0)
	b.Do(chromedp.MouseClickXY(x, y))
	for deadline := time.Now().Add(5 * time.Second); e.submits.Load() == before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first tap sent nothing")
		}
	}
	b.Do(chromedp.MouseClickXY(x, y)) // while the first is on its way
	b.Wait("#access-code")
	if n := e.submits.Load() - before; n != 1 {
		t.Fatalf("%d submissions sent by a double tap, want 1", n)
	}
	ref, code := b.Text("#reference"), b.Text("#access-code")
	cl, err := e.st.ClaimByReference(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if !auth.Equal(auth.HashAccessCode(code), cl.AccessCodeHash) {
		t.Fatalf("code %q is not the claim's", code)
	}
}

// words are the texts the flow checks for, per language.
var words = map[string]map[string]string{
	"ko": {"withdrawn": "철회됨", "received": "접수됨", "format": "형식이 올바르지 않습니다", "done_withdrawn": "청구를 철회했습니다."},
	"en": {"withdrawn": "Withdrawn", "received": "Received", "format": "The format is invalid", "done_withdrawn": "Your claim is withdrawn."},
}

// fileInBrowser files a claim with three items of different kinds, checks the status page,
// uploads a receipt and withdraws. It returns the claim reference.
func fileInBrowser(b *browsertest.Tab, lang, receipt string) string {
	t := b.T
	w := words[lang]
	name := lang
	if !b.JS {
		name += "-nojs"
	}
	b.Open("/?lang=" + lang)
	b.Wait("h1")
	if got := b.Eval(`document.documentElement.lang`); got != lang {
		t.Fatalf("page language %q, want %q", got, lang)
	}
	if b.JS {
		b.Shot("home-" + name)
		b.CheckA11y("home")
	}
	b.Press(`a.button.primary[href="/claim"]`)

	// Step 1: a time outside the windows is flagged before anything is submitted.
	b.Set("f-check_target", "kakao_t/taxi")
	b.Set("f-check_at", "2022-10-20T10:00")
	if !b.JS {
		b.Press(`button[value="check"]`)
	}
	b.Wait("#check-result.result-ineligible")
	if lang == "ko" {
		b.Shot("claim-check-ineligible-" + name)
		b.CheckA11y("check")
	}
	b.Set("f-check_at", "2022-10-15T18:30")
	if b.JS {
		b.Wait("#check-result.result-eligible")
	}
	b.Press(`button[value="next"]`)

	// Item 1, prefilled from the check: a taxi booking.
	b.Wait("#editor")
	if b.JS {
		// An amount that is not a number is flagged as the claimant leaves the field, with the
		// API's message; so is a time outside the windows.
		b.TypeIn("f-loss_krw", "abc")
		b.Wait("#e-loss_krw:not(:empty)")
		if msg := b.Text("#e-loss_krw"); !strings.Contains(msg, w["format"]) {
			t.Fatalf("live error %q", msg)
		}
		if b.Eval(`document.getElementById("f-loss_krw").getAttribute("aria-invalid") || ""`) != "true" {
			t.Fatal("aria-invalid not set")
		}
		b.Set("f-occurred_at", "2022-10-25T09:00")
		b.Wait("#item-result.result-ineligible")
		if lang == "ko" {
			b.Shot("claim-item-live-errors-" + name)
			b.CheckA11y("item editor with errors")
		}
		b.Set("f-loss_krw", "")
		b.Set("f-occurred_at", "2022-10-15T18:30")
		b.Wait("#item-result.result-eligible")
		b.TypeIn("f-expected_fare_krw", "12000")
		if v := b.Eval(`document.getElementById("f-expected_fare_krw").value`); v != "12,000" {
			t.Fatalf("amount shown as %q", v)
		}
	} else {
		b.Set("f-expected_fare_krw", "12,000")
	}
	b.Click("#f-failure-no_driver")
	b.Set("f-alternative_cost_krw", "25,000")
	b.Click("#f-documented")
	b.Press(`button[value="save"]`)
	b.Wait(".items .badge-eligible")

	// Item 2: a payment.
	b.Press(`button[value="add:payment"]`)
	b.Set("f-target", "kakao_pay/payments")
	b.Set("f-occurred_at", "2022-10-15T20:00")
	b.Click("#f-failure-payment_failed")
	b.Set("f-amount_krw", "45,000")
	b.Press(`button[value="save"]`)

	// Item 3: messages for a business, over a few hours.
	b.Press(`button[value="add:message"]`)
	b.Set("f-target", "kakaotalk/text")
	b.Set("f-occurred_at", "2022-10-16T09:00")
	b.Set("f-ended_at", "2022-10-16T12:00")
	b.Click("#f-purpose-business")
	b.Set("f-loss_krw", "300,000")
	b.Press(`button[value="save"]`)
	b.Wait(".items .badge-eligible_degraded")
	if n := b.Eval(`String(document.querySelectorAll(".items > li").length)`); n != "3" {
		t.Fatalf("%s items listed", n)
	}
	if lang == "ko" || !b.JS {
		b.Shot("claim-items-" + name)
		b.CheckA11y("items")
	}
	b.Press(`button[value="next"]`)

	// Contact: an empty form shows the summary, focused.
	b.Press(`button[value="next"]`)
	b.Wait("#error-summary")
	// Focus is on the summary, with or without JavaScript (autofocus).
	if id := b.Eval(`document.activeElement.id`); id != "error-summary" {
		t.Errorf("focus on %q, want the error summary", id)
	}
	if lang == "ko" {
		b.Shot("claim-contact-errors-" + name)
		b.CheckA11y("contact with errors")
	}
	b.Set("f-name", map[string]string{"ko": "김민지", "en": "Jane Park"}[lang])
	b.Set("f-email", "claimant@example.com")
	b.Set("f-phone", "010-1234-5678")
	b.Press(`button[value="next"]`)

	// Review, consent, submit.
	b.Wait("#f-consent")
	if lang == "ko" {
		b.Shot("claim-review-" + name)
		b.CheckA11y("review")
	}
	b.Click("#f-consent")
	b.Press("#submit-claim")
	b.Wait("#access-code")
	ref, code := b.Text("#reference"), b.Text("#access-code")
	if !strings.HasPrefix(ref, "CD-") || len(code) != 19 {
		t.Fatalf("reference %q, code %q", ref, code)
	}
	b.Shot("confirm-" + name)
	b.PrintShot("confirm-" + name)
	b.CheckA11y("confirmation")

	// Status page: sign in with the code.
	b.Open("/status?reference=" + ref)
	b.Set("f-access_code", code)
	b.Press(`form[action="/status"] button[type="submit"]`)
	b.Wait("#claim-status")
	if got := b.Text("#claim-status"); got != w["received"] {
		t.Fatalf("status %q", got)
	}

	// A receipt.
	b.Do(chromedp.SetUploadFiles(chromedp.ID("f-evidence"), []string{receipt}))
	b.Press("#upload")
	b.Wait("#evidence-list")
	if !strings.Contains(b.Text("#evidence-list"), "receipt.png") {
		t.Fatal("upload not listed")
	}
	b.Shot("status-" + name)
	b.CheckA11y("status")

	// Withdraw, with confirmation.
	b.Press("#withdraw-link")
	b.Wait("#withdraw-confirm")
	if lang == "ko" {
		b.Shot("withdraw-" + name)
		b.CheckA11y("withdraw")
	}
	b.Press("#withdraw-confirm")
	// The withdrawal ends the claim's sessions: the claimant lands signed out, told it is done,
	// and sees the claim withdrawn once signed in again.
	b.Wait("#f-access_code")
	if got := b.Text(`p.notice[role="status"]`); got != w["done_withdrawn"] {
		t.Fatalf("notice after withdrawing %q", got)
	}
	b.Set("f-reference", ref)
	b.Set("f-access_code", code)
	b.Press(`form[action="/status"] button[type="submit"]`)
	b.Wait("#claim-status")
	if got := b.Text("#claim-status"); got != w["withdrawn"] {
		t.Fatalf("status after withdrawing %q", got)
	}
	return ref
}
