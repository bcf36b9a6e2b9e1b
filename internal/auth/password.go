package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Staff users sign in with a password, kept as a bcrypt hash (cost 12): unlike tokens,
// passwords are chosen by people and must be slow to guess offline.

// PasswordCost is the bcrypt cost of new hashes (tests lower it for speed).
var PasswordCost = 12

// MinPassword and MaxPassword bound a password's length in bytes (bcrypt reads at most 72).
const (
	MinPassword = 12
	MaxPassword = 72
)

// ErrWeakPassword says a password is too short or too long.
var ErrWeakPassword = errors.New("password must be 12 to 72 bytes")

// HashPassword returns the bcrypt hash of a password.
func HashPassword(pw string) (string, error) {
	if len(pw) < MinPassword || len(pw) > MaxPassword {
		return "", ErrWeakPassword
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), PasswordCost)
	return string(h), err
}

// dummy is the hash compared against when the account does not exist, so a sign-in takes as
// long for an unknown email as for a wrong password: the time of a comparison is set by the
// hash's cost, so the dummy is made at PasswordCost. It is made on first use, not at start (a
// process that never signs anyone in does not pay for it), and again if tests change the cost.
var dummy struct {
	mu   sync.Mutex
	hash []byte
}

func dummyHash() []byte {
	dummy.mu.Lock()
	defer dummy.mu.Unlock()
	if c, err := bcrypt.Cost(dummy.hash); err != nil || c != PasswordCost {
		dummy.hash, _ = bcrypt.GenerateFromPassword([]byte("claimdesk-no-such-user"), PasswordCost)
	}
	return dummy.hash
}

// CheckPassword reports whether pw matches hash; an empty hash (no account) compares against
// a dummy and fails.
func CheckPassword(hash, pw string) bool {
	if hash == "" {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// NewPassword returns a random initial password (20 base64url characters, 120 bits).
func NewPassword() string {
	b := make([]byte, 15)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionPrefix makes session secrets recognisable.
const sessionPrefix = "cds_"

// NewSessionSecret returns the secret of a session cookie (256 random bits).
func NewSessionSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return sessionPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// CSRFToken derives the CSRF token of a session from its secret: a page or client that holds
// the session shows it in X-CSRF-Token; another site, which cannot read the cookie, cannot.
func CSRFToken(sessionSecret string) string {
	sum := sha256.Sum256([]byte("csrf\x00" + sessionSecret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NormalizeEmail is the stored form of a user's email.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
