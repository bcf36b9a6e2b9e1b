// Package config reads claimdesk's settings from the environment once, in main, and checks
// them before anything starts.
package config

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/importer"
	"github.com/claimdesk/claimdesk/internal/ratelimit"
)

// Config is every setting of the service.
type Config struct {
	// DatabaseURL is postgres://... for PostgreSQL, otherwise a SQLite file path.
	DatabaseURL string
	// Addr is the listen address.
	Addr string
	// AdminToken, when set, is made a valid admin token at start (for automation).
	AdminToken string
	// LogLevel is debug, info, warn or error.
	LogLevel slog.Level
	// LogFormat is json (default) or text.
	LogFormat string
	// ReadHeaderTimeout bounds how long a client may take to send its request headers
	// (slow-loris defence); CLAIMDESK_READ_HEADER_TIMEOUT, default 5s.
	ReadHeaderTimeout time.Duration
	// Retention is how long the personal data of a closed claim (approved, rejected,
	// withdrawn, duplicate) is kept after its last change; 0 keeps it.
	// CLAIMDESK_RETENTION_DAYS, default 0.
	Retention time.Duration
	// TrustedProxies are the addresses or CIDRs of the load balancers whose
	// X-Forwarded-For may be believed (CLAIMDESK_TRUSTED_PROXIES, comma-separated). None by
	// default: the client address is the peer's, so per-IP limits cannot be dodged by
	// sending the header.
	TrustedProxies []string
	// SessionSecret signs claimants' status-page sessions (CLAIMDESK_SESSION_SECRET, 32+
	// characters). Instances behind one load balancer need the same; when unset each process
	// makes its own, and claimants sign in again after a restart.
	SessionSecret []byte
	// SecureCookies marks every cookie the service sets Secure, and sends HSTS, whatever the
	// request looks like (CLAIMDESK_SECURE_COOKIES, true or false): for TLS ended at a proxy
	// that does not send X-Forwarded-Proto: https. Off by default: then only requests over TLS
	// or with that header get them, and a plain-HTTP deployment (local, tests) still works.
	SecureCookies bool
	// RedactRoles are the staff roles whose exported files are always redacted (names, emails
	// and phones masked), for firms whose lawyers share files outside the firm:
	// CLAIMDESK_EXPORT_REDACT_ROLES, comma-separated (lawyer, admin). None by default. It
	// governs exports only: the role still sees contact data in the workspace and the API.
	RedactRoles []auth.Role
	// ImportMaxBytes is the largest import upload (CLAIMDESK_IMPORT_MAX_BYTES, default 2 GiB).
	ImportMaxBytes int64
	// JobLease is how long a claimed job stays claimed without a heartbeat before another
	// instance takes it over (CLAIMDESK_JOB_LEASE, default 30s).
	JobLease time.Duration
	// JobPoll is how often an idle job worker looks for work (CLAIMDESK_JOB_POLL, default 1s).
	JobPoll time.Duration
	// Review holds the thresholds and weights of duplicate detection and fraud signals:
	// CLAIMDESK_REVIEW_CONFIG, a JSON object over claims.DefaultReviewConfig.
	Review claims.ReviewConfig
	// WebSubmitEvery and WebSubmitBurst bound the claims the web form files per client IP
	// (an IPv6 /64): WebSubmitBurst at once, then one every WebSubmitEvery
	// (CLAIMDESK_WEB_SUBMIT_EVERY, default 20s; CLAIMDESK_WEB_SUBMIT_BURST, default 10: the
	// pages' own, ratelimit.DefaultSubmitEvery and DefaultSubmitBurst). Many claimants may
	// share one address (a mobile carrier's NAT, an office): raise them then.
	WebSubmitEvery time.Duration
	WebSubmitBurst int
	// FontDir holds NanumGothic.ttf and NanumGothicBold.ttf for the PDF report
	// (CLAIMDESK_FONT_DIR, default export.DefaultFontDir). It is not checked here: without
	// the fonts only report.pdf fails, and says so.
	FontDir string
}

// DefaultDatabase is the embedded database used when no URL is given.
const DefaultDatabase = "./data/claimdesk.db"

// FromEnv reads the configuration from the environment.
func FromEnv() (Config, error) {
	c := Config{
		DatabaseURL: env("CLAIMDESK_DATABASE_URL", DefaultDatabase),
		Addr:        env("CLAIMDESK_ADDR", ":8080"),
		AdminToken:  strings.TrimSpace(os.Getenv("CLAIMDESK_ADMIN_TOKEN")),
		LogFormat:   env("CLAIMDESK_LOG_FORMAT", "json"),
		FontDir:     env("CLAIMDESK_FONT_DIR", export.DefaultFontDir),
	}
	if err := c.LogLevel.UnmarshalText([]byte(env("CLAIMDESK_LOG_LEVEL", "info"))); err != nil {
		return c, fmt.Errorf("CLAIMDESK_LOG_LEVEL: %w", err)
	}
	var err error
	if c.ReadHeaderTimeout, err = time.ParseDuration(env("CLAIMDESK_READ_HEADER_TIMEOUT", "5s")); err != nil || c.ReadHeaderTimeout <= 0 {
		return c, fmt.Errorf("CLAIMDESK_READ_HEADER_TIMEOUT must be a positive duration like 5s")
	}
	for _, p := range strings.Split(os.Getenv("CLAIMDESK_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	if s := os.Getenv("CLAIMDESK_SESSION_SECRET"); s != "" {
		if len(s) < 32 {
			return c, fmt.Errorf("CLAIMDESK_SESSION_SECRET must be at least 32 characters")
		}
		c.SessionSecret = []byte(s)
	}
	if v := env("CLAIMDESK_SECURE_COOKIES", ""); v != "" {
		if c.SecureCookies, err = strconv.ParseBool(v); err != nil {
			return c, fmt.Errorf("CLAIMDESK_SECURE_COOKIES must be true or false, not %q", v)
		}
	}
	for _, r := range strings.Split(os.Getenv("CLAIMDESK_EXPORT_REDACT_ROLES"), ",") {
		role := auth.Role(strings.TrimSpace(r))
		switch {
		case role == "":
		case role == auth.Lawyer || role == auth.Admin:
			c.RedactRoles = append(c.RedactRoles, role)
		default:
			return c, fmt.Errorf("CLAIMDESK_EXPORT_REDACT_ROLES lists roles that export (lawyer, admin), not %q", role)
		}
	}
	days, err := strconv.Atoi(env("CLAIMDESK_RETENTION_DAYS", "0"))
	if err != nil || days < 0 {
		return c, fmt.Errorf("CLAIMDESK_RETENTION_DAYS must be a whole number of days (0 keeps data)")
	}
	c.Retention = time.Duration(days) * 24 * time.Hour
	c.ImportMaxBytes = importer.DefaultMaxBytes
	if v := env("CLAIMDESK_IMPORT_MAX_BYTES", ""); v != "" {
		if c.ImportMaxBytes, err = strconv.ParseInt(v, 10, 64); err != nil || c.ImportMaxBytes <= 0 {
			return c, fmt.Errorf("CLAIMDESK_IMPORT_MAX_BYTES must be a positive number of bytes, not %q", v)
		}
	}
	for _, d := range []struct {
		env string
		def time.Duration
		dst *time.Duration
	}{{"CLAIMDESK_JOB_LEASE", 30 * time.Second, &c.JobLease}, {"CLAIMDESK_JOB_POLL", time.Second, &c.JobPoll},
		{"CLAIMDESK_WEB_SUBMIT_EVERY", ratelimit.DefaultSubmitEvery, &c.WebSubmitEvery}} {
		*d.dst = d.def
		if v := env(d.env, ""); v != "" {
			if *d.dst, err = time.ParseDuration(v); err != nil || *d.dst <= 0 {
				return c, fmt.Errorf("%s must be a positive duration such as 30s, not %q", d.env, v)
			}
		}
	}
	if c.WebSubmitBurst, err = strconv.Atoi(env("CLAIMDESK_WEB_SUBMIT_BURST", strconv.Itoa(ratelimit.DefaultSubmitBurst))); err != nil || c.WebSubmitBurst < 1 {
		return c, fmt.Errorf("CLAIMDESK_WEB_SUBMIT_BURST must be a whole number of claims, 1 or more")
	}
	if c.Review, err = claims.ParseReviewConfig(os.Getenv("CLAIMDESK_REVIEW_CONFIG")); err != nil {
		return c, fmt.Errorf("CLAIMDESK_REVIEW_CONFIG: %w", err)
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return c, fmt.Errorf("CLAIMDESK_LOG_FORMAT must be json or text, not %q", c.LogFormat)
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		return c, fmt.Errorf("CLAIMDESK_ADMIN_TOKEN must be at least 16 characters")
	}
	return c, nil
}

// Logger returns the logger the configuration asks for, writing to w.
func (c Config) Logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func env(key, def string) string {
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v
	}
	return def
}
