package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/ratelimit"
	"github.com/claimdesk/claimdesk/models"
)

// SessionCookie is the name of the staff session cookie.
const SessionCookie = "claimdesk_session"

// Session defaults: a session ends after SessionIdle without a request, and after
// SessionMaxAge whatever happens.
const (
	DefaultSessionIdle = 30 * time.Minute
	SessionMaxAge      = 12 * time.Hour
	// sessionTouch: activity is written at most this often per session.
	sessionTouch = time.Minute
)

// signInLimits limits failed sign-ins: per account (5, then one more every 5 minutes) and per
// IP (20, then one a minute). The right password is refused too while a limit is exhausted,
// so guessing gains nothing from hitting it.
type signInLimits struct {
	account, ip *ratelimit.Limiter
}

func newSignInLimits() signInLimits {
	return signInLimits{account: ratelimit.New(5*time.Minute, 5), ip: ratelimit.New(time.Minute, 20)}
}

// SessionRequest signs a user in.
type SessionRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// SessionResponse is the signed-in user and the CSRF token its state-changing requests show in
// X-CSRF-Token.
type SessionResponse struct {
	User      UserResponse `json:"user"`
	CSRFToken string       `json:"csrf_token"`
	ExpiresAt string       `json:"expires_at"`
}

// sessionPrincipal reads the session cookie. ok is false when it answered the request.
func (s *Server) sessionPrincipal(c *gin.Context) (p *auth.Principal, ok bool) {
	secret, err := c.Cookie(SessionCookie)
	if err != nil || secret == "" {
		return nil, true
	}
	ctx := c.Request.Context()
	su, err := s.store.SessionByHash(ctx, auth.Hash(secret))
	if err != nil {
		writeError(c, err)
		return nil, false
	}
	now := s.now()
	if su == nil || su.User.DisabledAt != nil || now.Sub(su.Session.LastSeenAt) > s.sessionIdle || now.Sub(su.Session.CreatedAt) > SessionMaxAge {
		if su != nil {
			if err := s.store.DeleteSession(ctx, su.Session.ID, nil); err != nil {
				writeError(c, err)
				return nil, false
			}
		}
		clearSessionCookie(c)
		return nil, true
	}
	if now.Sub(su.Session.LastSeenAt) > sessionTouch {
		if err := s.store.TouchSession(ctx, su.Session.ID, now); err != nil {
			writeError(c, err)
			return nil, false
		}
	}
	c.Set(keySession, su.Session.ID)
	return &auth.Principal{UserID: su.User.ID, Role: auth.Role(su.User.Role), Name: su.User.Email, CSRF: auth.CSRFToken(secret)}, true
}

const keySession = "session_id"

// checkCSRF refuses a state-changing request signed in by cookie unless it comes from this
// site (Go's CrossOriginProtection: Sec-Fetch-Site or Origin) and shows the session's CSRF
// token in X-CSRF-Token.
func (s *Server) checkCSRF(c *gin.Context, p *auth.Principal) error {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if err := s.crossOrigin.Check(c.Request); err != nil {
		return &apperr.Error{Code: apperr.Forbidden, Message: "csrf_failed", Err: err}
	}
	if p.CSRF == "" || !auth.Equal([]byte(c.GetHeader("X-CSRF-Token")), []byte(p.CSRF)) {
		return &apperr.Error{Code: apperr.Forbidden, Message: "csrf_failed"}
	}
	return nil
}

func setSessionCookie(c *gin.Context, secret string) {
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: secret, Path: "/", MaxAge: int(SessionMaxAge / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func clearSessionCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func (s *Server) signIn(c *gin.Context) {
	if err := s.crossOrigin.Check(c.Request); err != nil {
		writeError(c, &apperr.Error{Code: apperr.Forbidden, Message: "csrf_failed", Err: err})
		return
	}
	var req SessionRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	email := auth.NormalizeEmail(req.Email)
	accountKey, ipKey := "account:"+email, "ip:"+c.ClientIP()
	if s.signIns.account.Exhausted(accountKey) || s.signIns.ip.Exhausted(ipKey) {
		c.Header("Retry-After", "300")
		writeError(c, &apperr.Error{Code: apperr.RateLimited, Message: "sign_in_limited"})
		return
	}
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil {
		writeError(c, err)
		return
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	if !auth.CheckPassword(hash, req.Password) {
		s.signIns.account.Allow(accountKey)
		s.signIns.ip.Allow(ipKey)
		writeError(c, &apperr.Error{Code: apperr.Unauthorized, Message: "sign_in_failed"})
		return
	}
	if u.DisabledAt != nil {
		writeError(c, &apperr.Error{Code: apperr.Forbidden, Message: "user_disabled"})
		return
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	secret := auth.NewSessionSecret()
	sess := &models.Session{UserID: u.ID, TokenHash: auth.Hash(secret), CreatedAt: now, LastSeenAt: now, IP: c.ClientIP()}
	uid := u.ID
	ev, err := audit.Event{Actor: audit.Actor{Kind: audit.ActorUser, ID: &uid, Name: u.Email, Role: u.Role, IP: c.ClientIP(), RequestID: requestID(c)},
		Action: "sign_in", Entity: audit.EntityUser, EntityID: itoa64(u.ID)}.Model(now)
	if err != nil {
		writeError(c, err)
		return
	}
	if err := s.store.CreateSession(ctx, sess, ev); err != nil {
		writeError(c, err)
		return
	}
	setSessionCookie(c, secret)
	c.JSON(http.StatusOK, SessionResponse{User: userResponse(u), CSRFToken: auth.CSRFToken(secret), ExpiresAt: now.Add(SessionMaxAge).Format(time.RFC3339)})
}

func (s *Server) getSession(c *gin.Context) {
	p := principal(c)
	if p == nil || p.UserID == 0 {
		writeError(c, apperr.New(apperr.Unauthorized, ""))
		return
	}
	u, err := s.store.UserByID(c.Request.Context(), p.UserID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, SessionResponse{User: userResponse(u), CSRFToken: p.CSRF, ExpiresAt: s.now().Add(s.sessionIdle).UTC().Format(time.RFC3339)})
}

func (s *Server) signOut(c *gin.Context) {
	p := principal(c)
	id, ok := c.Get(keySession)
	if p == nil || !ok {
		writeError(c, apperr.New(apperr.Unauthorized, ""))
		return
	}
	ev, err := audit.Event{Actor: actorOf(c), Action: "sign_out", Entity: audit.EntityUser, EntityID: itoa64(p.UserID)}.Model(s.now())
	if err != nil {
		writeError(c, err)
		return
	}
	if err := s.store.DeleteSession(context.WithoutCancel(c.Request.Context()), id.(int64), ev); err != nil {
		writeError(c, err)
		return
	}
	clearSessionCookie(c)
	c.Status(http.StatusNoContent)
}
