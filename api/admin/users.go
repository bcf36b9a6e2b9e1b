package admin

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/staff"
	"github.com/claimdesk/claimdesk/models"
)

// usersRoutes registers the users page (admins only): list, invite, disable.
func (h *handler) usersRoutes(g *gin.RouterGroup) {
	g.GET("/users", h.users)
	g.POST("/users", h.inviteUser)
	g.POST("/users/:id/disable", h.disableUser)
}

// usersPage lists the users; Created and Initial show, once, the user just invited and the
// initial password made for them (the answer to the form post, never stored or redirected).
type usersPage struct {
	Users   []models.User
	Roles   []string
	Email   string
	Role    string
	Errors  map[string]string
	Created string
	Initial string
	Self    int64
}

func (h *handler) users(c *gin.Context) {
	if !h.requireAdmin(c) {
		return
	}
	v := h.view(c, "admin_users_title")
	h.renderUsers(c, v, http.StatusOK, usersPage{Role: "lawyer"})
}

func (h *handler) renderUsers(c *gin.Context, v *view, status int, p usersPage) {
	us, err := h.store.Users(c.Request.Context())
	if err != nil {
		h.failErr(c, err)
		return
	}
	p.Users, p.Roles, p.Self = us, staff.Roles, principal(c).UserID
	if id := c.Query("disabled"); id != "" && c.Request.Method == http.MethodGet {
		for _, u := range us {
			if strconv.FormatInt(u.ID, 10) == id {
				v.Message = v.T("admin_user_disabled_done", "email", u.Email)
			}
		}
	}
	v.Section, v.Page = "users", p
	h.render(c, status, "users", v)
}

// inviteUser creates a user through staff.Create (the API's path) and answers with the page
// showing the initial password once: it is not put in a redirect's URL or anywhere else.
func (h *handler) inviteUser(c *gin.Context) {
	if !h.requireAdmin(c) {
		return
	}
	v := h.view(c, "admin_users_title")
	p := usersPage{Email: c.PostForm("email"), Role: c.PostForm("role")}
	u, initial, err := staff.Create(c.Request.Context(), h.store, p.Email, p.Role, "", h.auth.Actor(c), h.now())
	if err != nil {
		ae, ok := err.(*apperr.Error)
		switch {
		case ok && ae.Code == apperr.Invalid:
			v.Error = errorText(v.Lang, err)
			p.Errors = map[string]string{}
			for _, f := range ae.Fields {
				p.Errors[f.Path] = messages.Field(v.Lang, f)
			}
			h.renderUsers(c, v, http.StatusUnprocessableEntity, p)
		case ok && ae.Code == apperr.Conflict:
			v.Error = errorText(v.Lang, err)
			h.renderUsers(c, v, http.StatusConflict, p)
		default:
			h.failErr(c, err)
		}
		return
	}
	// No cache keeps the password: every page is sent with Cache-Control: no-store
	// (web.PageHeaders).
	p = usersPage{Role: "lawyer", Created: u.Email, Initial: initial}
	h.renderUsers(c, v, http.StatusCreated, p)
}

// disableUser disables a user through staff.Disable (the API's path: sessions end too).
func (h *handler) disableUser(c *gin.Context) {
	if !h.requireAdmin(c) {
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		h.failErr(c, &apperr.Error{Code: apperr.NotFound, Message: "user_not_found"})
		return
	}
	u, err := staff.Disable(c.Request.Context(), h.store, id, h.auth.Actor(c), h.now())
	if err != nil {
		h.failErr(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/users?disabled="+strconv.FormatInt(u.ID, 10))
}
