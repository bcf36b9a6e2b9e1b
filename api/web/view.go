package web

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/messages"
)

// view is what every template gets; page-specific data is in Page.
type view struct {
	Lang  messages.Lang
	Title string
	CSRF  string
	// LangForm names the form the language buttons submit (the claim form keeps its draft
	// across a language switch); empty means plain links, to LangURL.
	LangForm string
	// here is the page the language links show again (langPage).
	here url.URL
	// Errors are the failing fields, in page order, for the summary and next to each field.
	Errors  []fieldError
	Message string
	Page    any
}

// fieldError is one failing field of a page: ID is the input's id.
type fieldError struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// T returns the text of key in the page language; kv are placeholder pairs.
func (v *view) T(key string, kv ...string) string { return messages.TextPairs(v.Lang, key, kv...) }

// Err returns the message of the field with input id, "" when it is fine.
func (v *view) Err(id string) string {
	for _, e := range v.Errors {
		if e.ID == id {
			return e.Message
		}
	}
	return ""
}

// labelKeys names the label of inputs whose key is not "field_" + id.
var labelKeys = map[string]string{
	"check_target": "field_target", "reference": "confirm_reference", "evidence": "evidence_choose",
	"review-items": "review_items", "review-contact": "review_contact", "consent": "consent_title", "add": "add_item",
}

// Label is the label of input id, so the error summary says which field each message is about.
func (v *view) Label(id string) string {
	key, ok := labelKeys[id]
	if !ok {
		key = "field_" + id
	}
	if !messages.Has(key) {
		return ""
	}
	return v.T(key)
}

// Other returns the other language, for the switch.
func (v *view) Other() messages.Lang {
	if v.Lang == messages.En {
		return messages.Ko
	}
	return messages.En
}

// LangURL is the link that shows the page in language l.
func (v *view) LangURL(l string) string {
	u := v.here
	q := u.Query()
	q.Set("lang", l)
	u.RawQuery = q.Encode()
	return u.String()
}

// langPage is the page the language links of the answer to r lead to: a page reached by GET is
// shown again, with the one parameter a page takes from its link (the status page's
// reference); one rendered from a post (a form shown again with its errors, the error page)
// leads to the page its form was on, as a link relative to the post's path would lead to a
// GET that path does not answer.
func langPage(r *http.Request) url.URL {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		switch {
		case r.URL.Path == "/status" || strings.HasPrefix(r.URL.Path, "/status/"):
			return url.URL{Path: "/status"}
		case r.URL.Path == "/claim" || strings.HasPrefix(r.URL.Path, "/claim/"):
			return url.URL{Path: "/claim"}
		}
		return url.URL{Path: "/"}
	}
	u := url.URL{Path: r.URL.Path}
	if ref := r.URL.Query().Get("reference"); ref != "" && r.URL.Path == "/status" {
		u.RawQuery = url.Values{"reference": {ref}}.Encode()
	}
	return u
}

// Won formats an amount with thousands separators.
func (v *view) Won(n int64) string { return damages.FormatWon(n) }

// When formats an instant in the case zone for people: "10월 15일 (토) 15:30" or "Sat 15 Oct 15:30".
func (v *view) When(t time.Time) string { return when(v.Lang, t) }

// Seoul is the zone pages show and read times in, the claimant's and the lawyers' (Korea has
// one zone and no daylight saving time): a fixed +09:00 when the machine has no zone database.
var Seoul = mustZone("Asia/Seoul")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("KST", 9*3600)
	}
	return loc
}

func when(l messages.Lang, t time.Time) string {
	t = t.In(Seoul)
	wd := messages.Text(l, "weekday_"+strconv.Itoa(int(t.Weekday())), nil)
	if l == messages.En {
		return wd + " " + strconv.Itoa(t.Day()) + " " + t.Format("Jan 2006 15:04")
	}
	return t.Format("2006년 1월 2일") + " (" + wd + ") " + t.Format("15:04")
}

// whenShort is when without the year, for the outage days (all in October 2022).
func whenShort(l messages.Lang, t time.Time) string {
	t = t.In(Seoul)
	wd := messages.Text(l, "weekday_"+strconv.Itoa(int(t.Weekday())), nil)
	if l == messages.En {
		return wd + " " + strconv.Itoa(t.Day()) + " " + t.Format("Jan 15:04")
	}
	return t.Format("1월 2일") + "(" + wd + ") " + t.Format("15:04")
}

// nationalPhone shows a stored E.164 Korean mobile number as people write it.
func nationalPhone(p string) string {
	if strings.HasPrefix(p, "+8210") && len(p) == 13 {
		n := "0" + p[3:]
		return n[:3] + "-" + n[3:7] + "-" + n[7:]
	}
	return p
}

func (h *handler) view(c *gin.Context, titleKey string) *view {
	v := &view{Lang: PageLang(c), CSRF: h.csrfToken(c), here: langPage(c.Request)}
	v.Title = v.T(titleKey)
	return v
}

// fieldErrors turns field errors of the service into the page's, mapping each path to an
// input id with idOf (paths it returns "" for are dropped) and keeping the first per input.
func fieldErrors(l messages.Lang, err error, idOf func(path string) string) []fieldError {
	ae, ok := err.(*apperr.Error)
	if !ok {
		return nil
	}
	var out []fieldError
	seen := map[string]bool{}
	for _, f := range ae.Fields {
		id := idOf(f.Path)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, fieldError{ID: id, Message: messages.Field(l, f)})
	}
	return out
}

// order sorts errors by the position of their inputs on the page.
func order(errs []fieldError, ids []string) {
	pos := func(id string) int {
		for i, x := range ids {
			if x == id {
				return i
			}
		}
		return len(ids)
	}
	sort.SliceStable(errs, func(i, j int) bool { return pos(errs[i].ID) < pos(errs[j].ID) })
}

var pageNames = []string{"home", "claim", "confirm", "status", "withdraw", "error"}

func parsePages() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, p := range pageNames {
		t := template.New("layout.html").Funcs(template.FuncMap{
			"seq": func(n int) []int {
				s := make([]int, n)
				for i := range s {
					s[i] = i
				}
				return s
			},
			"add1": func(i int) int { return i + 1 },
		})
		out[p] = template.Must(t.ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html"))
	}
	return out
}

// render writes page with v; the template runs into a buffer first so a failing template
// never leaves half a page.
func (h *handler) render(c *gin.Context, status int, page string, v *view) {
	var buf bytes.Buffer
	if err := h.pages[page].ExecuteTemplate(&buf, "layout.html", v); err != nil {
		h.log.ErrorContext(c.Request.Context(), "template failed", "page", page, "err", err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error"))
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// F returns the error of input id for the "ferr" template (empty message when fine).
func (v *view) F(id string) fieldError { return fieldError{ID: id, Message: v.Err(id)} }

// wonField is an amount input in won.
type wonField struct {
	ID, Label, Optional, Hint, Message, Value, Unit string
}

// Won2 describes the amount input id with its typed value.
func (v *view) Won2(id, value string) wonField {
	f := wonField{ID: id, Label: v.T("field_" + id), Hint: v.T("hint_won"), Message: v.Err(id), Value: value, Unit: v.T("won_unit")}
	if id != "amount_krw" {
		f.Optional = v.T("optional")
	}
	return f
}

// contactView is the contact fields' data.
type contactView struct {
	V *view
	C contactForm
}

// ContactView passes the contact fields' values to their template.
func (v *view) ContactView(c contactForm) contactView { return contactView{V: v, C: c} }
