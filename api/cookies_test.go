package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/api"
)

// TestSecureCookies: over plain HTTP, with no X-Forwarded-Proto (a proxy that ends TLS and does
// not say so), every cookie the service sets is Secure and HSTS is sent once
// Config.SecureCookies is set: the claimant's pages' form token, language and status session,
// the lawyers' pages' language, staff's session. Unset, only staff's session cookie is (it
// always is), as before.
func TestSecureCookies(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "forced"}[secure], func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, "sqlite")
			e.h = api.New(api.Config{Store: e.st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow },
				Background: func(fn func(context.Context)) { fn(context.Background()) }, SecureCookies: secure})
			created := e.submit(claim(taxi("2022-10-15T18:30")))
			e.newUser("lawyer", "lawyer@example.com")
			lookup := url.Values{"csrf": {"token"}, "reference": {created["reference"].(string)}, "access_code": {created["access_code"].(string)}}

			for _, tc := range []struct {
				name, cookie, method, path string
				body                       any
				headers                    []string
				alwaysSecure               bool
			}{
				{"form token", "cd_csrf", "GET", "/status", nil, nil, false},
				{"language", "cd_lang", "GET", "/?lang=en", nil, nil, false},
				{"status session", "cd_status", "POST", "/status", lookup.Encode(),
					[]string{"Content-Type", "application/x-www-form-urlencoded", "Cookie", "cd_csrf=token"}, false},
				{"workspace language", "cd_lang", "GET", "/admin/login?lang=en", nil, nil, false},
				{"staff session", api.SessionCookie, "POST", "/api/v1/session", `{"email": "lawyer@example.com", "password": "` + testPassword + `"}`,
					[]string{"Content-Type", "application/json"}, true},
			} {
				r := e.doWith(false, tc.method, tc.path, tc.body, tc.headers...)
				var got *http.Cookie
				for _, c := range (&http.Response{Header: r.Header}).Cookies() {
					if c.Name == tc.cookie {
						got = c
					}
				}
				if got == nil {
					t.Errorf("%s: %s %s set no %s (%d): %s", tc.name, tc.method, tc.path, tc.cookie, r.Status, r.Body)
					continue
				}
				if want := secure || tc.alwaysSecure; got.Secure != want {
					t.Errorf("%s: %s Secure %v, want %v", tc.name, tc.cookie, got.Secure, want)
				}
				if hsts := r.Header.Get("Strict-Transport-Security") != ""; hsts != secure {
					t.Errorf("%s: HSTS sent %v, want %v", tc.name, hsts, secure)
				}
			}
		})
	}
}
