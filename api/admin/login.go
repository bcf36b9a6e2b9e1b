package admin

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// loginForm is the sign-in page's data.
type loginForm struct {
	Next, Email string
}

// safeNext keeps a post-sign-in destination only when it is a page of the workspace (never
// another site: "//evil" and "/\evil" are refused).
func safeNext(next string) string {
	if next == "/admin" || (strings.HasPrefix(next, "/admin/") && !strings.ContainsAny(next, "\\\r\n") && !strings.HasPrefix(next, "/admin/login") && !strings.HasPrefix(next, "/admin/logout")) {
		return next
	}
	return "/admin"
}

func (h *handler) loginPage(c *gin.Context) {
	next := safeNext(c.Query("next"))
	if p, err := h.auth.Principal(c); err == nil && p != nil && p.UserID != 0 {
		c.Redirect(http.StatusSeeOther, next)
		return
	}
	v := h.view(c, "admin_sign_in_title")
	v.Page = loginForm{Next: next}
	if c.Query("signed_out") == "1" {
		v.Message = v.T("admin_signed_out")
	}
	h.render(c, http.StatusOK, "login", v)
}

// login signs in through the API's one path (limits, back-off, audit, cookie); a failure
// shows its message on the form again.
func (h *handler) login(c *gin.Context) {
	if !h.parseForm(c) {
		return
	}
	next := safeNext(c.PostForm("next"))
	email := strings.TrimSpace(c.PostForm("email"))
	// A missing email or password is a 422 with its fields from SignIn, which does not count it
	// against the limits.
	if err := h.auth.SignIn(c, email, c.PostForm("password")); err != nil {
		if h.auth.Status(err) >= 500 {
			h.failErr(c, err)
			return
		}
		v := h.view(c, "admin_sign_in_title")
		v.at("/admin/login")
		v.Page = loginForm{Next: next, Email: email}
		v.Error = errorText(v.Lang, err)
		h.render(c, h.auth.Status(err), "login", v)
		return
	}
	c.Redirect(http.StatusSeeOther, next)
}

// logout ends the session (the form carries the CSRF token, checked by staff()).
func (h *handler) logout(c *gin.Context) {
	if p := principal(c); p == nil || p.UserID == 0 {
		c.Redirect(http.StatusSeeOther, "/admin/login")
		return
	}
	if err := h.auth.SignOut(c); err != nil {
		h.failErr(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/login?signed_out=1")
}
