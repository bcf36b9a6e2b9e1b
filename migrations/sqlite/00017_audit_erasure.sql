-- +goose Up
-- The audit trail stays append-only but for what erasing a claim's personal data needs
-- (store.eraseAuditInTx): the IP of the claimant's own events about the claim blanked, and the
-- before/after (masked contact details) of its update_contact events replaced. Every event
-- stays, with who acted, when and what they did. The trigger lets through exactly that, and
-- only once the claim is marked erased: nothing else of the row changes, an IP only to '' and
-- only a claimant's, before/after only of update_contact. Deletes stay refused.
DROP TRIGGER audit_events_no_update;
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN NOT (
    OLD.entity = 'claim'
    AND NEW.id IS OLD.id AND NEW.at IS OLD.at AND NEW.actor_kind IS OLD.actor_kind AND NEW.actor_id IS OLD.actor_id
    AND NEW.actor_name IS OLD.actor_name AND NEW.actor_role IS OLD.actor_role AND NEW.request_id IS OLD.request_id
    AND NEW.case_id IS OLD.case_id AND NEW.action IS OLD.action AND NEW.entity IS OLD.entity
    AND NEW.entity_id IS OLD.entity_id AND NEW.details IS OLD.details
    AND (NEW.ip IS OLD.ip OR (NEW.ip = '' AND OLD.actor_kind = 'claimant'))
    AND ((NEW.before IS OLD.before AND NEW.after IS OLD.after) OR OLD.action = 'update_contact')
    AND EXISTS (SELECT 1 FROM claims c WHERE c.reference = OLD.entity_id AND c.erased_at IS NOT NULL)
)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER audit_events_no_update;
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd
