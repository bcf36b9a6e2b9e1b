package api

import (
	"context"
	"net/http"
	"strings"
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

// sessionPrincipal reads the session cookie: nil when there is none or it has expired (the
// stale session is deleted and its cookie cleared).
func (s *Server) sessionPrincipal(c *gin.Context) (*auth.Principal, error) {
	secret, err := c.Cookie(SessionCookie)
	if err != nil || secret == "" {
		return nil, nil
	}
	ctx := c.Request.Context()
	su, err := s.store.SessionByHash(ctx, auth.Hash(secret))
	if err != nil {
		return nil, err
	}
	now := s.now()
	if su == nil || su.User.DisabledAt != nil || now.Sub(su.Session.LastSeenAt) > s.sessionIdle || now.Sub(su.Session.CreatedAt) > SessionMaxAge {
		if su != nil {
			if err := s.store.DeleteSession(ctx, su.Session.ID, nil); err != nil {
				return nil, err
			}
		}
		clearSessionCookie(c)
		return nil, nil
	}
	seen := su.Session.LastSeenAt
	if now.Sub(seen) > sessionTouch {
		if err := s.store.TouchSession(ctx, su.Session.ID, now); err != nil {
			return nil, err
		}
		seen = now
	}
	c.Set(keySession, su.Session.ID)
	c.Set(keySessionExpires, s.sessionExpiry(su.Session.CreatedAt, seen))
	return &auth.Principal{UserID: su.User.ID, Role: auth.Role(su.User.Role), Name: su.User.Email, CSRF: auth.CSRFToken(secret)}, nil
}

const (
	keySession        = "session_id"
	keySessionExpires = "session_expires"
)

// sessionExpiry is when a session made at created and last seen at seen ends if unused: after
// the idle time, and never after SessionMaxAge.
func (s *Server) sessionExpiry(created, seen time.Time) string {
	end := seen.Add(s.sessionIdle)
	if limit := created.Add(SessionMaxAge); limit.Before(end) {
		end = limit
	}
	return end.UTC().Format(time.RFC3339)
}

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
	var req SessionRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	u, secret, err := s.startSession(c, req.Email, req.Password)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, SessionResponse{User: userResponse(u), CSRFToken: auth.CSRFToken(secret), ExpiresAt: s.sessionExpiry(s.now(), s.now())})
}

// startSession signs a user in: the one way to do it, for POST /api/v1/session and the
// lawyers' sign-in page alike. It refuses cross-site requests, applies the limits on failed
// attempts, checks the password, stores the session with its audit event and sets the cookie.
// An empty email or password is a validation error (422, by field). Other errors carry the
// catalogue keys sign_in_failed, sign_in_limited (with Retry-After set),
// user_disabled and csrf_failed.
func (s *Server) startSession(c *gin.Context, email, password string) (*models.User, string, error) {
	if err := s.crossOrigin.Check(c.Request); err != nil {
		return nil, "", &apperr.Error{Code: apperr.Forbidden, Message: "csrf_failed", Err: err}
	}
	// Nothing to check is not an attempt: it does not count against the limits.
	var missing []apperr.FieldError
	for _, f := range []struct{ path, v string }{{"email", strings.TrimSpace(email)}, {"password", password}} {
		if f.v == "" {
			missing = append(missing, apperr.FieldError{Path: f.path, Code: apperr.FieldRequired})
		}
	}
	if len(missing) > 0 {
		return nil, "", apperr.Validation(missing)
	}
	ctx := c.Request.Context()
	email = auth.NormalizeEmail(email)
	// The attempt is taken from both budgets before the password is checked, and given back
	// unless the password is wrong: checking the budgets first and counting after the bcrypt
	// comparison (a fifth of a second) would let every attempt arriving meanwhile through.
	attempt, ok := ratelimit.Try(ratelimit.Key{Limiter: s.signIns.account, Name: "account:" + email}, ratelimit.Key{Limiter: s.signIns.ip, Name: ratelimit.IPKey(c.ClientIP())})
	if !ok {
		c.Header("Retry-After", "300")
		return nil, "", &apperr.Error{Code: apperr.RateLimited, Message: "sign_in_limited"}
	}
	defer attempt.Done()
	u, err := s.store.UserByEmail(ctx, email)
	if err != nil {
		return nil, "", err
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	if !auth.CheckPassword(hash, password) {
		attempt.Failed()
		return nil, "", &apperr.Error{Code: apperr.Unauthorized, Message: "sign_in_failed"}
	}
	if u.DisabledAt != nil {
		return nil, "", &apperr.Error{Code: apperr.Forbidden, Message: "user_disabled"}
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	secret := auth.NewSessionSecret()
	sess := &models.Session{UserID: u.ID, TokenHash: auth.Hash(secret), CreatedAt: now, LastSeenAt: now, IP: c.ClientIP()}
	uid := u.ID
	ev, err := audit.Event{Actor: audit.Actor{Kind: audit.ActorUser, ID: &uid, Name: u.Email, Role: u.Role, IP: c.ClientIP(), RequestID: requestID(c)},
		Action: "sign_in", Entity: audit.EntityUser, EntityID: itoa64(u.ID)}.Model(now)
	if err != nil {
		return nil, "", err
	}
	if err := s.store.CreateSession(ctx, sess, ev); err != nil {
		return nil, "", err
	}
	setSessionCookie(c, secret)
	return u, secret, nil
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
	c.JSON(http.StatusOK, SessionResponse{User: userResponse(u), CSRFToken: p.CSRF, ExpiresAt: c.GetString(keySessionExpires)})
}

func (s *Server) signOut(c *gin.Context) {
	if err := s.endSession(c); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// endSession signs out the session of the request (already authenticated, CSRF checked):
// the session is deleted with its audit event and the cookie cleared. The API and the
// lawyers' pages both come through here.
func (s *Server) endSession(c *gin.Context) error {
	p := principal(c)
	id, ok := c.Get(keySession)
	if p == nil || !ok {
		return apperr.New(apperr.Unauthorized, "")
	}
	ev, err := audit.Event{Actor: actorOf(c), Action: "sign_out", Entity: audit.EntityUser, EntityID: itoa64(p.UserID)}.Model(s.now())
	if err != nil {
		return err
	}
	if err := s.store.DeleteSession(context.WithoutCancel(c.Request.Context()), id.(int64), ev); err != nil {
		return err
	}
	clearSessionCookie(c)
	return nil
}
