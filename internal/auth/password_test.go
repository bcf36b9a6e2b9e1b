package auth

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestDummyHashCost: an unknown email is compared against a hash as slow as a real one, or the
// time of a sign-in tells which emails are staff.
func TestDummyHashCost(t *testing.T) {
	defer func(cost int) { PasswordCost = cost }(PasswordCost)
	for _, cost := range []int{bcrypt.MinCost + 1, bcrypt.MinCost + 2} {
		PasswordCost = cost
		got, err := bcrypt.Cost(dummyHash())
		if err != nil || got != cost {
			t.Fatalf("dummy hash cost %d (%v), want PasswordCost %d", got, err, cost)
		}
	}
}
