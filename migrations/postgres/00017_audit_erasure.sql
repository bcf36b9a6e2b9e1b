-- +goose Up
-- The audit trail stays append-only but for what erasing a claim's personal data needs
-- (store.eraseAuditInTx): the IP of the claimant's own events about the claim blanked, and the
-- before/after (masked contact details) of its update_contact events replaced. Every event
-- stays, with who acted, when and what they did. The trigger lets through exactly that, and
-- only once the claim is marked erased: nothing else of the row changes, an IP only to '' and
-- only a claimant's, before/after only of update_contact. Deletes stay refused.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND OLD.entity = 'claim'
        AND ROW(NEW.id, NEW.at, NEW.actor_kind, NEW.actor_id, NEW.actor_name, NEW.actor_role, NEW.request_id,
                NEW.case_id, NEW.action, NEW.entity, NEW.entity_id, NEW.details)
            IS NOT DISTINCT FROM
            ROW(OLD.id, OLD.at, OLD.actor_kind, OLD.actor_id, OLD.actor_name, OLD.actor_role, OLD.request_id,
                OLD.case_id, OLD.action, OLD.entity, OLD.entity_id, OLD.details)
        AND (NEW.ip = OLD.ip OR (NEW.ip = '' AND OLD.actor_kind = 'claimant'))
        AND ((NEW.before IS NOT DISTINCT FROM OLD.before AND NEW.after IS NOT DISTINCT FROM OLD.after)
            OR OLD.action = 'update_contact')
        AND EXISTS (SELECT 1 FROM claims c WHERE c.reference = OLD.entity_id AND c.erased_at IS NOT NULL)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
-- +goose StatementEnd
