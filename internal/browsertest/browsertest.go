// Package browsertest drives pages in a real headless Chromium for the browser tests of the
// claimant's pages (api/web) and the lawyers' workspace (api/admin): one browser per test,
// a tab per subtest with its own cookies, screenshots at a phone and a desktop size into
// artifacts/screenshots, and axe-core's accessibility rules run inside the page.
//
// A machine without Chromium fails the tests (install it with `make deps`), never skips them.
package browsertest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds the browser; a machine without one fails the test.
func chromiumPath(t testing.TB) string {
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

// root is the repository's root directory.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// screenshotDir is artifacts/screenshots at the root of the repository.
func screenshotDir(t testing.TB) string {
	dir := filepath.Join(root(), "artifacts", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Browser is one headless Chromium shared by the subtests of a test.
type Browser struct {
	ctx   context.Context
	base  string
	axe   string
	shots string
}

// Start starts Chromium for the pages served at base (an httptest server's URL); it stops
// when the test ends.
func Start(t *testing.T, base string) *Browser {
	t.Helper()
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
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start chromium (install chromium: make deps): %v", err)
	}
	axe, err := os.ReadFile(filepath.Join(root(), "api", "web", "testdata", "axe", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{ctx: browserCtx, base: base, axe: string(axe), shots: screenshotDir(t)}
}

// Tab opens a tab in a browser context of its own (no cookies shared with other tabs), at a
// phone's size; js false runs it with JavaScript disabled.
func (br *Browser) Tab(t *testing.T, js bool) *Tab {
	t.Helper()
	tctx, cancel := chromedp.NewContext(br.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first run opens the tab and ties it to tctx (not to a shorter timeout).
	if err := chromedp.Do(tctx); err != nil {
		t.Fatal(err)
	}
	tb := &Tab{T: t, Ctx: tctx, Base: br.base, JS: js, axe: br.axe, shots: br.shots}
	tb.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	if !js {
		if _, err := chromedp.Call(tctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
	}
	return tb
}

// Tab is one browser tab with the helpers of the tests. Selectors are CSS.
type Tab struct {
	T    *testing.T
	Ctx  context.Context
	Base string
	JS   bool
	// Pending, when set, is a CSS selector that matches while the page's script is busy
	// (the claim form's live validation): Settle waits until it no longer matches.
	Pending string
	axe     string
	shots   string
}

// pageSays is what the page shows as errors or notices, for failure messages.
const pageSays = `Array.from(document.querySelectorAll(".error-summary, .field-error:not(:empty), .notice")).map(e => e.textContent.trim()).join(" | ")`

// Do runs actions with a 15-second limit.
func (b *Tab) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.T.Fatalf("browser: %v", err)
	}
}

// Open loads a page and waits for it.
func (b *Tab) Open(path string) {
	b.T.Helper()
	b.Do(chromedp.Navigate(b.Base + path))
}

// Press clicks a button or link that loads a new page and waits for the load.
func (b *Tab) Press(css string) {
	b.T.Helper()
	b.Settle()
	b.whileLoading(chromedp.Click(chromedp.CSS(css)), "press "+css)
}

// PressKey focuses css and presses key (like "\r" for Enter or " " for Space) to submit or
// follow it, waiting for the new page: the keyboard alone does the job.
func (b *Tab) PressKey(css, key string) {
	b.T.Helper()
	b.Settle()
	b.Do(chromedp.Focus(chromedp.CSS(css)))
	b.whileLoading(chromedp.KeyEvent(key), "key on "+css)
}

func (b *Tab) whileLoading(a chromedp.Action[chromedp.Void], what string) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, a)); err != nil {
		errs, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[string](pageSays))
		b.T.Fatalf("%s: %v (page says: %s)", what, err, errs)
	}
}

// Set gives an input a value as a person would leave it; with JavaScript the page sees the
// change event.
func (b *Tab) Set(id, value string) {
	b.T.Helper()
	if value == "" {
		b.Do(chromedp.Evaluate[chromedp.Void](`document.getElementById(` + jsString(id) + `).value = ""`))
	} else {
		b.Do(chromedp.SetValue(chromedp.ID(id), value))
	}
	if b.JS {
		b.Do(chromedp.Evaluate[chromedp.Void](`document.getElementById(` + jsString(id) + `).dispatchEvent(new Event("change", {bubbles: true}))`))
	}
}

// TypeIn types into an input and leaves it (focus moves on with Tab).
func (b *Tab) TypeIn(id, text string) {
	b.T.Helper()
	b.Settle()
	b.Do(chromedp.Click(chromedp.ID(id)), chromedp.SendKeys(chromedp.ID(id), text+"\t"))
}

// Click clicks what css selects, without waiting for a new page.
func (b *Tab) Click(css string) {
	b.T.Helper()
	b.Settle()
	b.Do(chromedp.Click(chromedp.CSS(css)))
}

// Settle waits until Pending no longer matches (with JavaScript).
func (b *Tab) Settle() {
	b.T.Helper()
	if b.JS && b.Pending != "" {
		b.Do(chromedp.WaitReady(chromedp.CSS("body:not(:has(" + b.Pending + "))")))
	}
}

// Wait waits until css is visible.
func (b *Tab) Wait(css string) {
	b.T.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(css))); err != nil {
		errs, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[string](pageSays))
		b.T.Fatalf("wait for %s: %v (page says: %s)", css, err, errs)
	}
}

// Text is the trimmed text of css.
func (b *Tab) Text(css string) string {
	b.T.Helper()
	s, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		b.T.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// Eval evaluates a JavaScript expression that gives a string.
func (b *Tab) Eval(js string) string {
	b.T.Helper()
	s, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.T.Fatalf("eval %s: %v", js, err)
	}
	return s
}

// Shot saves full-page screenshots of the current page at a phone and a desktop size, and
// checks that nothing needs sideways scrolling on the narrowest phones (320 px).
func (b *Tab) Shot(name string) {
	b.T.Helper()
	for _, size := range []struct {
		w, h   int64
		mobile bool
	}{{390, 844, true}, {1280, 800, false}} {
		vp := chromedp.EmulateViewport(size.w, size.h)
		if size.mobile {
			vp = chromedp.EmulateViewport(size.w, size.h, chromedp.EmulateMobile)
		}
		b.Do(vp)
		png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
		if err != nil {
			b.T.Fatalf("screenshot %s: %v", name, err)
		}
		file := filepath.Join(b.shots, name+"-"+strconv.FormatInt(size.w, 10)+"x"+strconv.FormatInt(size.h, 10)+".png")
		if err := os.WriteFile(file, png, 0o644); err != nil {
			b.T.Fatal(err)
		}
	}
	b.Do(chromedp.EmulateViewport(320, 640, chromedp.EmulateMobile))
	if w := b.Eval(`String(document.documentElement.scrollWidth)`); w != "320" {
		b.T.Errorf("%s is %s px wide in a 320 px viewport", name, w)
	}
	b.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
}

// PrintShot saves the page as the print stylesheet shows it; the site header must be hidden.
func (b *Tab) PrintShot(name string) {
	b.T.Helper()
	if _, err := chromedp.Call(b.Ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		b.T.Fatal(err)
	}
	defer chromedp.Call(b.Ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""})
	b.Do(chromedp.EmulateViewport(794, 1123))
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.T.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+"-print.png"), png, 0o644); err != nil {
		b.T.Fatal(err)
	}
	if hidden := b.Eval(`getComputedStyle(document.querySelector("header.site")).display`); hidden != "none" {
		b.T.Errorf("print view shows the site header (%s)", hidden)
	}
	b.Do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
}

type violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// CheckA11y runs axe-core in the page (WCAG 2.2 AA and best practices) and fails on serious
// or critical violations; it needs JavaScript, so a tab without it checks nothing.
func (b *Tab) CheckA11y(name string) {
	b.T.Helper()
	if !b.JS {
		return
	}
	b.Do(chromedp.Evaluate[chromedp.Void](b.axe))
	raw, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})
		.then(r => JSON.stringify({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}))}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.T.Fatalf("axe on %s: %v", name, err)
	}
	var res struct {
		Passes     int
		Violations []violation
	}
	if err := json.Unmarshal([]byte(raw), &res); err != nil {
		b.T.Fatal(err)
	}
	if res.Passes < 10 {
		b.T.Fatalf("axe on %s checked almost nothing (%d rules passed)", name, res.Passes)
	}
	b.T.Logf("axe %s: %d rules pass, %d violations", name, res.Passes, len(res.Violations))
	for _, v := range res.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			b.T.Errorf("axe %s: %s (%s): %s at %v", name, v.ID, v.Impact, v.Help, v.Nodes)
		} else {
			b.T.Logf("axe %s: %s (%s): %s at %v", name, v.ID, v.Impact, v.Help, v.Nodes)
		}
	}
}

// jsString quotes s for JavaScript.
func jsString(s string) string { b, _ := json.Marshal(s); return string(b) }
