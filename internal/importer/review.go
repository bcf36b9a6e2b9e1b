package importer

import (
	"context"
	"strconv"

	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// recordImport adds the audit event of an import to its transaction: who imported, and what
// it created (counts only: rows hold personal data).
func (im *Importer) recordImport(ctx context.Context, bulk *store.Bulk, imp *models.Import) error {
	actor := audit.Actor{Kind: audit.ActorSystem, Name: imp.CreatedBy}
	if imp.TokenID != nil {
		actor = audit.Actor{Kind: audit.ActorToken, ID: imp.TokenID, Name: imp.CreatedBy}
	}
	caseID := imp.CaseID
	at := imp.CreatedAt
	if imp.FinishedAt != nil {
		at = *imp.FinishedAt
	}
	ev, err := audit.Event{Actor: actor, CaseID: &caseID, Action: claims.ActionSubmit, Entity: audit.EntityClaims, EntityID: "import:" + strconv.FormatInt(imp.ID, 10),
		After: map[string]any{"status": imp.Status, "dry_run": imp.DryRun, "created": imp.ClaimsCreated, "unchanged": imp.ClaimsUnchanged,
			"rejected": imp.ClaimsRejected}}.Model(at)
	if err != nil {
		return err
	}
	return bulk.Record(ctx, ev)
}

// analyzeAfter is the number of claims created by an import from which the planner's
// statistics are refreshed before the detection pass queries them.
const analyzeAfter = 10000

// detect runs duplicate detection and the fraud signals over the claims the import stored, as
// one set-based pass after its transaction.
func (im *Importer) detect(ctx context.Context, imp *models.Import) {
	if im.Claims == nil || imp.DryRun || imp.Status != store.ImportSucceeded || imp.ClaimsCreated == 0 {
		return
	}
	if imp.ClaimsCreated >= analyzeAfter {
		if err := im.Store.AnalyzeClaims(ctx); err != nil && im.Log != nil {
			im.Log.Warn("refreshing statistics after an import failed", "import_id", imp.ID, "err", err)
		}
	}
	// The import's claims were marked pending with it: one pass over the import takes them off;
	// a pass that fails or is cut short leaves them to the detection worker's sweep.
	err := im.Claims.Detect(ctx, store.Scope{CaseID: imp.CaseID, ImportID: &imp.ID})
	if err == nil {
		err = im.Store.ImportReviewsDone(ctx, imp.ID)
	}
	if err != nil && im.Log != nil {
		im.Log.Error("duplicate and fraud detection failed", "import_id", imp.ID, "err", err)
	}
}
