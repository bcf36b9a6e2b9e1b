package audit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/audit"
)

func TestModel(t *testing.T) {
	now := time.Date(2026, 11, 23, 21, 0, 0, 123456789, time.FixedZone("KST", 9*3600))
	id := int64(4)
	m, err := audit.Event{Actor: audit.Actor{Kind: audit.ActorToken, ID: &id, Name: "김변호사", Role: "lawyer", IP: "192.0.2.1", RequestID: "r1"},
		Action: audit.ActionUpdate, Entity: audit.EntityWindows, EntityID: "kakao-2022",
		Before: map[string]any{"windows": 1}, After: map[string]any{"windows": 2}, Details: map[string]any{"rows": 3}}.Model(now)
	if err != nil {
		t.Fatal(err)
	}
	if !m.At.Equal(now.Truncate(time.Microsecond)) || m.At.Location() != time.UTC {
		t.Errorf("at %v", m.At)
	}
	if *m.Before != `{"windows":1}` || *m.After != `{"windows":2}` || m.Details != `{"rows":3}` || m.ActorName != "김변호사" {
		t.Errorf("model %+v", m)
	}
	// No details: an empty object, never NULL.
	m, err = audit.Event{Actor: audit.Actor{Kind: audit.ActorSystem}, Action: audit.ActionExport, Entity: audit.EntityReport}.Model(now)
	if err != nil || m.Details != "{}" || m.Before != nil {
		t.Errorf("%+v %v", m, err)
	}
}

func TestModelRefuses(t *testing.T) {
	for name, ev := range map[string]audit.Event{
		"no action":    {Actor: audit.Actor{Kind: audit.ActorCLI}, Entity: audit.EntityClaims},
		"unknown kind": {Actor: audit.Actor{Kind: "robot"}, Action: audit.ActionExport, Entity: audit.EntityClaims},
		"token hash":   {Actor: audit.Actor{Kind: audit.ActorToken}, Action: audit.ActionCreate, Entity: audit.EntityToken, After: map[string]any{"token_hash": "x"}},
		"access code":  {Actor: audit.Actor{Kind: audit.ActorClaimant}, Action: audit.ActionCreate, Entity: audit.EntityClaim, Details: map[string]string{"access_code": "x"}},
		"password": {Actor: audit.Actor{Kind: audit.ActorUser}, Action: audit.ActionUpdate, Entity: audit.EntityUser, Before: struct {
			Password string `json:"password"`
		}{"x"}},
	} {
		if _, err := ev.Model(time.Now()); err == nil {
			t.Errorf("%s: recorded", name)
		} else if !strings.HasPrefix(err.Error(), "audit: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
