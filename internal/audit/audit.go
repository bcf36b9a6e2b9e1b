// Package audit describes the append-only audit trail: who (a token, a signed-in user, a
// claimant, the system or the command line) did what to which entity, when and from where,
// with the state before and after and the details of the action. Every change to a claim, a
// window, a rule set, a user or a token, and every export, is recorded as one Event.
//
// Events never carry secrets: callers pass response-shaped values (no token hashes, access
// codes or passwords), and Event.Model refuses a few well-known secret keys as a safety net.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/claimdesk/claimdesk/models"
)

// Actor kinds.
const (
	ActorToken    = "token"
	ActorUser     = "user"
	ActorClaimant = "claimant"
	ActorSystem   = "system"
	ActorCLI      = "cli"
)

// Actions. Issue 5 adds the transitions of claims; keep names verb-like and stable.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
	ActionExport = "export"
	// ActionContact is a change of a claim's contact details (claims.Service.UpdateContact),
	// its before and after the masked details, which erasure replaces (store.eraseAuditInTx).
	// Migration 00017's triggers hold the literal: they let only these events' before and
	// after change, so a new name needs a migration.
	ActionContact = "update_contact"
)

// Entities.
const (
	EntityClaim      = "claim"
	EntityWindows    = "windows"
	EntityRules      = "rules"
	EntityUser       = "user"
	EntityToken      = "token"
	EntityClaims     = "claims"     // an export of claim items
	EntityPlaintiffs = "plaintiffs" // an export of the plaintiff list
	EntityReport     = "report"     // the case report (PDF or HTML)
	EntityAudit      = "audit"      // an export of the audit trail
)

// Entities lists the entity kinds of the trail (for filters).
var Entities = []string{EntityClaim, EntityClaims, EntityWindows, EntityRules, EntityUser, EntityToken, EntityPlaintiffs, EntityReport, EntityAudit}

// Actor is who acted and from where.
type Actor struct {
	Kind      string
	ID        *int64 // token or user id
	Name      string
	Role      string
	IP        string
	RequestID string
}

// Event is one action to record.
type Event struct {
	Actor    Actor
	CaseID   *int64
	Action   string
	Entity   string
	EntityID string
	// Before and After are the entity's state around a change (nil when not applicable),
	// Details anything else worth keeping (filters, row counts). All are encoded as JSON.
	Before, After, Details any
}

// Recorder appends events; the store implements it.
type Recorder interface {
	Record(ctx context.Context, e *models.AuditEvent) error
}

// Record appends e, stamped at now.
func Record(ctx context.Context, r Recorder, now time.Time, e Event) error {
	m, err := e.Model(now)
	if err != nil {
		return err
	}
	return r.Record(ctx, m)
}

// TokenCreated is the event of a new API token t made by actor: its id, role and name, never
// its hash. The API, the first start and `claimdesk token create` record new tokens alike.
func TokenCreated(actor Actor, t *models.APIToken, now time.Time) (*models.AuditEvent, error) {
	return Event{Actor: actor, Action: ActionCreate, Entity: EntityToken, EntityID: strconv.FormatInt(t.ID, 10),
		After: map[string]any{"id": t.ID, "role": t.Role, "name": t.Name}}.Model(now)
}

// secretKeys are JSON keys an audit record must never hold.
var secretKeys = []string{`"token_hash"`, `"access_code"`, `"access_code_hash"`, `"password"`, `"secret"`, `"token"`}

// Model turns e into its table row.
func (e Event) Model(now time.Time) (*models.AuditEvent, error) {
	if e.Action == "" || e.Entity == "" {
		return nil, fmt.Errorf("audit: event needs an action and an entity")
	}
	switch e.Actor.Kind {
	case ActorToken, ActorUser, ActorClaimant, ActorSystem, ActorCLI:
	default:
		return nil, fmt.Errorf("audit: unknown actor kind %q", e.Actor.Kind)
	}
	m := &models.AuditEvent{At: now.UTC().Truncate(time.Microsecond), ActorKind: e.Actor.Kind, ActorID: e.Actor.ID,
		ActorName: e.Actor.Name, ActorRole: e.Actor.Role, IP: e.Actor.IP, RequestID: e.Actor.RequestID,
		CaseID: e.CaseID, Action: e.Action, Entity: e.Entity, EntityID: e.EntityID, Details: "{}"}
	var err error
	if m.Before, err = encode(e.Before); err != nil {
		return nil, err
	}
	if m.After, err = encode(e.After); err != nil {
		return nil, err
	}
	if d, err := encode(e.Details); err != nil {
		return nil, err
	} else if d != nil {
		m.Details = *d
	}
	return m, nil
}

func encode(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: encode: %w", err)
	}
	s := string(b)
	for _, k := range secretKeys {
		if strings.Contains(s, k+":") {
			return nil, fmt.Errorf("audit: refusing to record a secret (%s)", k)
		}
	}
	return &s, nil
}
