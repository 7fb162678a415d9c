"""Refuse changes to the audit tables with triggers no session setting can skip.

The pgtrigger triggers (0001) return early when the session names them in `pgtrigger.ignore`,
a setting any session may set: a role that may only run statements on these tables could,
with `SET pgtrigger.ignore = '{...}'`, update or delete events, checkpoints and archive rows.
The chain and the signed checkpoints still reveal such a change, but the database should
refuse it in the first place. These plain triggers raise whatever the session says. Only a
superuser (`session_replication_role = replica`) or the tables' owner (who may disable or drop
triggers; the platform's own role owns them, as it creates each month's partition) gets past
them, which is what the chain and the signed checkpoints reveal. The pgtrigger triggers stay (the models declare them); on partitions
these row triggers are cloned like the others. A lock timeout keeps the migration from queuing
every audited read behind it while it waits for the tables' locks.
"""

from django.db import migrations

FORWARD = r"""
SET LOCAL lock_timeout = '5s';
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only: cannot % rows of %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'GDA02';
END $$;
CREATE TRIGGER audit_event_refuse_change BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoint_refuse_change BEFORE UPDATE OR DELETE ON audit_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_archive_refuse_change BEFORE UPDATE OR DELETE ON audit_archive
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
-- The chain trigger moves the head with UPDATE; it is never deleted.
CREATE TRIGGER audit_head_refuse_delete BEFORE DELETE ON audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_event_refuse_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_checkpoint_refuse_truncate BEFORE TRUNCATE ON audit_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_archive_refuse_truncate BEFORE TRUNCATE ON audit_archive
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
CREATE TRIGGER audit_head_refuse_truncate BEFORE TRUNCATE ON audit_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate();
"""

BACKWARD = r"""
SET LOCAL lock_timeout = '5s';
DROP TRIGGER audit_head_refuse_truncate ON audit_chain_head;
DROP TRIGGER audit_archive_refuse_truncate ON audit_archive;
DROP TRIGGER audit_checkpoint_refuse_truncate ON audit_checkpoint;
DROP TRIGGER audit_event_refuse_truncate ON audit_event;
DROP TRIGGER audit_head_refuse_delete ON audit_chain_head;
DROP TRIGGER audit_archive_refuse_change ON audit_archive;
DROP TRIGGER audit_checkpoint_refuse_change ON audit_checkpoint;
DROP TRIGGER audit_event_refuse_change ON audit_event;
DROP FUNCTION audit_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_drop_field_purpose_indexes")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
