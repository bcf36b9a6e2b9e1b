package web_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The browser tests drive the pages in a real headless Chromium: the whole claim in Korean
// and in English with JavaScript, the plain form without it, screenshots at a phone and a
// desktop size (artifacts/screenshots/) and axe-core's accessibility rules inside the pages.
// One browser serves every subtest; each gets its own tab.

// chromiumPath finds the browser; a machine without one fails the tests, never skips them.
func chromiumPath(t *testing.T) string {
	for _, p := range []string{os.Getenv("CLAIMDESK_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Fatal("chromium not found: install chromium: make deps")
	return ""
}

// screenshotDir is artifacts/screenshots at the root of the repository.
func screenshotDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "artifacts", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBrowser(t *testing.T) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true), chromedp.Flag("lang", "ko-KR"),
		chromedp.UserDataDir(t.TempDir()),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start chromium (install chromium: make deps): %v", err)
	}

	e := newEnv(t, "sqlite")
	axe, err := os.ReadFile("testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	shots := screenshotDir(t)
	receipt := filepath.Join(t.TempDir(), "receipt.png")
	if err := os.WriteFile(receipt, pngBytes(t), 0o644); err != nil {
		t.Fatal(err)
	}
	newTab := func(t *testing.T, js bool) *tab {
		// A browser context of its own: no cookies shared with the other subtests.
		tctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		// The first run opens the tab and ties it to tctx (not to a shorter timeout).
		if err := chromedp.Do(tctx); err != nil {
			t.Fatal(err)
		}
		tb := &tab{t: t, ctx: tctx, base: e.srv.URL, js: js, axe: string(axe), shots: shots}
		tb.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		if !js {
			if _, err := chromedp.Call(tctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
				t.Fatal(err)
			}
		}
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
}

// tab is one browser tab with the helpers of the tests.
type tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	js    bool
	axe   string
	shots string
}

func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// open loads a page and waits for it.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base + path))
}

// press clicks a button or link that loads a new page and waits for the load.
func (b *tab) press(css string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	b.settle()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS(css)))); err != nil {
		errs, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll(".error-summary, .field-error:not(:empty), .notice")).map(e => e.textContent.trim()).join(" | ")`))
		b.t.Fatalf("press %s: %v (page says: %s)", css, err, errs)
	}
}

// set gives an input a value as a person would leave it; with JavaScript the page sees the
// change (which runs the live validation).
func (b *tab) set(id, value string) {
	b.t.Helper()
	if value == "" {
		b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById(` + jsString(id) + `).value = ""`))
	} else {
		b.do(chromedp.SetValue(chromedp.ID(id), value))
	}
	if b.js {
		b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById(` + jsString(id) + `).dispatchEvent(new Event("change", {bubbles: true}))`))
	}
}

// typeIn types into an input and leaves it (focus moves on with Tab).
func (b *tab) typeIn(id, text string) {
	b.t.Helper()
	b.settle()
	b.do(chromedp.Click(chromedp.ID(id)), chromedp.SendKeys(chromedp.ID(id), text+"\t"))
}

func (b *tab) click(css string) {
	b.t.Helper()
	b.settle()
	b.do(chromedp.Click(chromedp.CSS(css)))
}

// settle waits for the live validation to answer: its answer can move what is clicked next.
func (b *tab) settle() {
	b.t.Helper()
	if b.js {
		b.do(chromedp.WaitReady(chromedp.CSS("body:not(:has(form[data-pending]))")))
	}
}

func (b *tab) wait(css string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(css))); err != nil {
		errs, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll(".error-summary, .field-error:not(:empty), .notice")).map(e => e.textContent.trim()).join(" | ")`))
		b.t.Fatalf("wait for %s: %v (page says: %s)", css, err, errs)
	}
}

func (b *tab) text(css string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

func (b *tab) eval(js string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("eval %s: %v", js, err)
	}
	return s
}

// shot saves full-page screenshots of the current page at a phone and a desktop size.
func (b *tab) shot(name string) {
	b.t.Helper()
	for _, size := range []struct {
		w, h   int64
		mobile bool
	}{{390, 844, true}, {1280, 800, false}} {
		vp := chromedp.EmulateViewport(size.w, size.h)
		if size.mobile {
			vp = chromedp.EmulateViewport(size.w, size.h, chromedp.EmulateMobile)
		}
		b.do(vp)
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			b.t.Fatalf("screenshot %s: %v", name, err)
		}
		file := filepath.Join(b.shots, name+"-"+itoa(size.w)+"x"+itoa(size.h)+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	// The narrowest phones (320 px, or 640 px at 200% zoom): nothing may need sideways scrolling.
	b.do(chromedp.EmulateViewport(320, 640, chromedp.EmulateMobile))
	if w := b.eval(`String(document.documentElement.scrollWidth)`); w != "320" {
		b.t.Errorf("%s is %s px wide in a 320 px viewport", name, w)
	}
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
}

// printShot saves the page as the print stylesheet shows it.
func (b *tab) printShot(name string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		b.t.Fatal(err)
	}
	defer chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""})
	b.do(chromedp.EmulateViewport(794, 1123))
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+"-print.png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if hidden := b.eval(`getComputedStyle(document.querySelector("header.site")).display`); hidden != "none" {
		b.t.Errorf("print view shows the site header (%s)", hidden)
	}
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
}

type violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkA11y runs axe-core in the page and fails on serious or critical violations.
func (b *tab) checkA11y(name string) {
	b.t.Helper()
	if !b.js {
		return
	}
	b.do(chromedp.Evaluate[chromedp.Void](b.axe))
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})
		.then(r => JSON.stringify({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}))}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe on %s: %v", name, err)
	}
	var res struct {
		Passes     int
		Violations []violation
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		b.t.Fatal(err)
	}
	if res.Passes < 10 {
		b.t.Fatalf("axe on %s checked almost nothing (%d rules passed)", name, res.Passes)
	}
	b.t.Logf("axe %s: %d rules pass, %d violations", name, res.Passes, len(res.Violations))
	for _, v := range res.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Errorf("axe %s: %s (%s): %s at %v", name, v.ID, v.Impact, v.Help, v.Nodes)
		} else {
			b.t.Logf("axe %s: %s (%s): %s at %v", name, v.ID, v.Impact, v.Help, v.Nodes)
		}
	}
}

func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }

// words are the texts the flow checks for, per language.
var words = map[string]map[string]string{
	"ko": {"withdrawn": "철회됨", "received": "접수됨", "format": "형식이 올바르지 않습니다"},
	"en": {"withdrawn": "Withdrawn", "received": "Received", "format": "The format is invalid"},
}

// fileInBrowser files a claim with three items of different kinds, checks the status page,
// uploads a receipt and withdraws. It returns the claim reference.
func fileInBrowser(b *tab, lang, receipt string) string {
	t := b.t
	w := words[lang]
	name := lang
	if !b.js {
		name += "-nojs"
	}
	b.open("/?lang=" + lang)
	b.wait("h1")
	if got := b.eval(`document.documentElement.lang`); got != lang {
		t.Fatalf("page language %q, want %q", got, lang)
	}
	if b.js {
		b.shot("home-" + name)
		b.checkA11y("home")
	}
	b.press(`a.button.primary[href="/claim"]`)

	// Step 1: a time outside the windows is flagged before anything is submitted.
	b.set("f-check_target", "kakao_t/taxi")
	b.set("f-check_at", "2022-10-20T10:00")
	if !b.js {
		b.press(`button[value="check"]`)
	}
	b.wait("#check-result.result-ineligible")
	if lang == "ko" {
		b.shot("claim-check-ineligible-" + name)
		b.checkA11y("check")
	}
	b.set("f-check_at", "2022-10-15T18:30")
	if b.js {
		b.wait("#check-result.result-eligible")
	}
	b.press(`button[value="next"]`)

	// Item 1, prefilled from the check: a taxi booking.
	b.wait("#editor")
	if b.js {
		// An amount that is not a number is flagged as the claimant leaves the field, with the
		// API's message; so is a time outside the windows.
		b.typeIn("f-loss_krw", "abc")
		b.wait("#e-loss_krw:not(:empty)")
		if msg := b.text("#e-loss_krw"); !strings.Contains(msg, w["format"]) {
			t.Fatalf("live error %q", msg)
		}
		if b.eval(`document.getElementById("f-loss_krw").getAttribute("aria-invalid") || ""`) != "true" {
			t.Fatal("aria-invalid not set")
		}
		b.set("f-occurred_at", "2022-10-25T09:00")
		b.wait("#item-result.result-ineligible")
		if lang == "ko" {
			b.shot("claim-item-live-errors-" + name)
			b.checkA11y("item editor with errors")
		}
		b.set("f-loss_krw", "")
		b.set("f-occurred_at", "2022-10-15T18:30")
		b.wait("#item-result.result-eligible")
		b.typeIn("f-expected_fare_krw", "12000")
		if v := b.eval(`document.getElementById("f-expected_fare_krw").value`); v != "12,000" {
			t.Fatalf("amount shown as %q", v)
		}
	} else {
		b.set("f-expected_fare_krw", "12,000")
	}
	b.click("#f-failure-no_driver")
	b.set("f-alternative_cost_krw", "25,000")
	b.click("#f-documented")
	b.press(`button[value="save"]`)
	b.wait(".items .badge-eligible")

	// Item 2: a payment.
	b.press(`button[value="add:payment"]`)
	b.set("f-target", "kakao_pay/payments")
	b.set("f-occurred_at", "2022-10-15T20:00")
	b.click("#f-failure-payment_failed")
	b.set("f-amount_krw", "45,000")
	b.press(`button[value="save"]`)

	// Item 3: messages for a business, over a few hours.
	b.press(`button[value="add:message"]`)
	b.set("f-target", "kakaotalk/text")
	b.set("f-occurred_at", "2022-10-16T09:00")
	b.set("f-ended_at", "2022-10-16T12:00")
	b.click("#f-purpose-business")
	b.set("f-loss_krw", "300,000")
	b.press(`button[value="save"]`)
	b.wait(".items .badge-eligible_degraded")
	if n := b.eval(`String(document.querySelectorAll(".items > li").length)`); n != "3" {
		t.Fatalf("%s items listed", n)
	}
	if lang == "ko" || !b.js {
		b.shot("claim-items-" + name)
		b.checkA11y("items")
	}
	b.press(`button[value="next"]`)

	// Contact: an empty form shows the summary, focused.
	b.press(`button[value="next"]`)
	b.wait("#error-summary")
	// Focus is on the summary, with or without JavaScript (autofocus).
	if id := b.eval(`document.activeElement.id`); id != "error-summary" {
		t.Errorf("focus on %q, want the error summary", id)
	}
	if lang == "ko" {
		b.shot("claim-contact-errors-" + name)
		b.checkA11y("contact with errors")
	}
	b.set("f-name", map[string]string{"ko": "김민지", "en": "Jane Park"}[lang])
	b.set("f-email", "claimant@example.com")
	b.set("f-phone", "010-1234-5678")
	b.press(`button[value="next"]`)

	// Review, consent, submit.
	b.wait("#f-consent")
	if lang == "ko" {
		b.shot("claim-review-" + name)
		b.checkA11y("review")
	}
	b.click("#f-consent")
	b.press("#submit-claim")
	b.wait("#access-code")
	ref, code := b.text("#reference"), b.text("#access-code")
	if !strings.HasPrefix(ref, "CD-") || len(code) != 19 {
		t.Fatalf("reference %q, code %q", ref, code)
	}
	b.shot("confirm-" + name)
	b.printShot("confirm-" + name)
	b.checkA11y("confirmation")

	// Status page: sign in with the code.
	b.open("/status?reference=" + ref)
	b.set("f-access_code", code)
	b.press(`form[action="/status"] button[type="submit"]`)
	b.wait("#claim-status")
	if got := b.text("#claim-status"); got != w["received"] {
		t.Fatalf("status %q", got)
	}

	// A receipt.
	b.do(chromedp.SetUploadFiles(chromedp.ID("f-evidence"), []string{receipt}))
	b.press("#upload")
	b.wait("#evidence-list")
	if !strings.Contains(b.text("#evidence-list"), "receipt.png") {
		t.Fatal("upload not listed")
	}
	b.shot("status-" + name)
	b.checkA11y("status")

	// Withdraw, with confirmation.
	b.press("#withdraw-link")
	b.wait("#withdraw-confirm")
	if lang == "ko" {
		b.shot("withdraw-" + name)
		b.checkA11y("withdraw")
	}
	b.press("#withdraw-confirm")
	b.wait("#claim-status")
	if got := b.text("#claim-status"); got != w["withdrawn"] {
		t.Fatalf("status after withdrawing %q", got)
	}
	return ref
}
