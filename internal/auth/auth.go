// Package auth makes and checks the secrets of claimdesk: API tokens with roles, claim
// references and the claimant's access code. Secrets are random (but the access code of a web
// form's claim, derived from its draft under a server secret: AccessCodeFrom) and stored as
// SHA-256 hashes; with 128 bits of entropy a fast hash is enough (nothing to brute-force).
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// Role is what a token may do.
type Role string

const (
	Admin    Role = "admin"
	Lawyer   Role = "lawyer"
	Importer Role = "importer"
)

// Roles lists every role.
var Roles = []Role{Admin, Lawyer, Importer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == Admin || r == Lawyer || r == Importer }

// Principal is who makes a request: a token's role and id, a signed-in user's (UserID, with
// the session's CSRF token), or nobody.
type Principal struct {
	TokenID int64
	UserID  int64
	Role    Role
	Name    string
	// CSRF is set for a session: state-changing requests must show it (X-CSRF-Token).
	CSRF string
}

// Can reports whether the principal has one of roles.
func (p *Principal) Can(roles ...Role) bool {
	if p == nil {
		return false
	}
	for _, r := range roles {
		if p.Role == r {
			return true
		}
	}
	return false
}

// tokenPrefix makes tokens recognisable in logs and secret scanners.
const tokenPrefix = "cdk_"

// NewToken returns a fresh API token (256 random bits).
func NewToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics on a broken system source)
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Hash returns the SHA-256 of a secret, the only form in which secrets are stored.
func Hash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// Equal compares two hashes in constant time.
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// crockford is Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or copied by
// hand is hard to get wrong.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

func randomCode(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return encode(b)
}

// encode writes each byte of b as one character of crockford (its low 5 bits).
func encode(b []byte) string {
	out := make([]byte, len(b))
	for i, x := range b {
		out[i] = crockford[x&31]
	}
	return string(out)
}

func group(s string, size int) string {
	var sb strings.Builder
	for i := 0; i < len(s); i += size {
		if i > 0 {
			sb.WriteByte('-')
		}
		sb.WriteString(s[i:min(i+size, len(s))])
	}
	return sb.String()
}

// NewReference returns a claim reference like "CD-7K3M-9QXP-2DHA": 12 random base32
// characters (60 bits), so references cannot be guessed or enumerated.
func NewReference() string { return "CD-" + group(randomCode(12), 4) }

// NewAccessCode returns a claimant access code: 16 random base32 characters (80 bits).
func NewAccessCode() string { return group(randomCode(16), 4) }

// AccessCodeFrom returns the access code written from the first 16 bytes of sum, in the form of
// NewAccessCode: for a code derived from a secret (an HMAC), which a client can be shown again
// without its being stored. sum must be at least 16 bytes and as unguessable as random ones.
func AccessCodeFrom(sum []byte) string { return group(encode(sum[:16]), 4) }

// NormalizeCode reads a reference or access code as a person may type it: any case, with or
// without dashes and spaces, O for 0, I and L for 1.
func NormalizeCode(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	var sb strings.Builder
	for _, r := range s {
		switch r {
		case '-', ' ':
		case 'O':
			sb.WriteByte('0')
		case 'I', 'L':
			sb.WriteByte('1')
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// CanonicalReference returns the stored form of a reference typed by a person, or "" when it
// cannot be one.
func CanonicalReference(s string) string {
	n := NormalizeCode(s)
	n = strings.TrimPrefix(n, "CD")
	if len(n) != 12 {
		return ""
	}
	for _, r := range n {
		if !strings.ContainsRune(crockford, r) {
			return ""
		}
	}
	return "CD-" + group(n, 4)
}

// HashAccessCode hashes an access code in its normalized form, so "abcd efgh..." matches.
func HashAccessCode(code string) []byte { return Hash(NormalizeCode(code)) }
