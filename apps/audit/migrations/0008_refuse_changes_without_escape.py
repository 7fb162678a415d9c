"""Refuse changes to the audit tables with triggers no session setting can skip.

The pgtrigger triggers (0001) return early when the session names them in `pgtrigger.ignore`,
a setting any session may set: with the application's own database credentials, `SET
pgtrigger.ignore = '{...}'` was enough to update or delete events, checkpoints and archive
rows. The chain and the signed checkpoints still reveal such a change, but the database should
refuse it in the first place. These plain triggers raise whatever the session says; only
`session_replication_role = replica` (a superuser) or the table's owner disabling them gets
past, which the verification is there for. The pgtrigger triggers stay (the models declare
them); on partitions these row triggers are cloned like the others.
"""

from django.db import migrations

FORWARD = r"""
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
