package admin

import (
	"bytes"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/api/web"
	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/messages"
)

// view is what every template gets; page-specific data is in Page.
type view struct {
	Lang  messages.Lang
	Title string
	// CSRF is the session's token: every form repeats it (template "csrf").
	CSRF string
	// User is who is signed in (nil on the sign-in page).
	User *auth.Principal
	// Case is the slug of the case in the nav; Section the nav entry of the page
	// (dashboard, claims, duplicates, audit, users).
	Case    string
	Section string
	// Message is a notice shown at the top (role=status); Error a problem (role=alert).
	Message string
	Error   string
	// url is the page's address, for the language switch.
	url  *url.URL
	Page any
}

// T returns the text of key in the page language; kv are placeholder pairs.
func (v *view) T(key string, kv ...string) string { return messages.TextPairs(v.Lang, key, kv...) }

// IsAdmin reports whether the signed-in user is an admin (the Users entry of the nav).
func (v *view) IsAdmin() bool { return v.User.Can(auth.Admin) }

// LangURL is the page's address in language l (its query kept, so a filtered list stays
// filtered).
func (v *view) LangURL(l string) string {
	if v.url == nil {
		return "?lang=" + l
	}
	q := v.url.Query()
	q.Set("lang", l)
	return v.url.Path + "?" + q.Encode()
}

// at sets the page's address for the language switch: a page answered to a form post shows
// the GET page it belongs to.
func (v *view) at(path string) { v.url = &url.URL{Path: path} }

// Won formats an amount with thousands separators.
func (v *view) Won(n int64) string { return damages.FormatWon(n) }

// Num formats a count with thousands separators.
func (v *view) Num(n int64) string { return damages.FormatWon(n) }

// When formats an instant in Korea time with its date: "2022-10-15 18:30".
func (v *view) When(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(web.Seoul).Format("2006-01-02 15:04")
}

// WhenP is When of a pointer ("" for nil).
func (v *view) WhenP(t *time.Time) string {
	if t == nil {
		return ""
	}
	return v.When(*t)
}

// ISO is an instant for a <time datetime> attribute.
func (v *view) ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// view starts the view of a page titled by titleKey.
func (h *handler) view(c *gin.Context, titleKey string) *view {
	v := &view{Lang: web.PageLang(c), url: c.Request.URL, Case: h.caseSlug}
	if p := principal(c); p != nil {
		v.User, v.CSRF = p, p.CSRF
	}
	if cs := c.Param("case"); cs != "" {
		v.Case = cs
	}
	v.Title = v.T(titleKey)
	return v
}

// funcs are the template functions every page may use.
var funcs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
	"sel": func(v *view, name, label string, opts []option, value string) selectField {
		return selectField{V: v, Name: name, Label: label, Options: opts, Value: value}
	},
	"join": strings.Join,
	"has":  slices.Contains[[]string],
	// The services' limits, for the forms' own checks (the services check again).
	"maxNote":         func() int { return lifecycle.MaxNote },
	"maxCureDays":     func() int { return lifecycle.MaxCureDays },
	"defaultCureDays": func() int { return lifecycle.DefaultCureDays },
	"maxSearch":       func() int { return claims.MaxSearchLength },
}

// selectField is a labelled select of a filter, with "any" first (template "select").
type selectField struct {
	V           *view
	Name, Label string
	Options     []option
	Value       string
}

// parsePages parses every templates/<page>.html (except layout.html) with the layout: a page
// is added by adding its file, which defines "content".
func parsePages() map[string]*template.Template {
	out := map[string]*template.Template{}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" {
			continue
		}
		t := template.New("layout.html").Funcs(funcs)
		out[name] = template.Must(t.ParseFS(templateFS, "templates/layout.html", f))
	}
	return out
}

// render writes page with v; the template runs into a buffer first so a failing template
// never leaves half a page.
func (h *handler) render(c *gin.Context, status int, page string, v *view) {
	var buf bytes.Buffer
	t, ok := h.pages[page]
	if !ok {
		h.log.ErrorContext(c.Request.Context(), "no such template", "page", page)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error"))
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		h.log.ErrorContext(c.Request.Context(), "template failed", "page", page, "err", err)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error"))
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}
