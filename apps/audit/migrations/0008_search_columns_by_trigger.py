"""The chain trigger fills the search columns and stamps the month; the WAL flush writes no row.

Every record read appends its event while holding the chain lock, so what an insert costs is
paid by every reader (0007). Measured per audited read on the PostgreSQL backend
(docs/benchmark-notes.md, session 10):
- The eight search columns were generated columns, each parsing the whole body as jsonb again:
  about 0.1 ms an event. The trigger now parses it once and sets them; they stay derived from
  the hashed body, and `audit_verify --search-columns` checks that no one changed them since
  (an insider who bypasses the triggers could; the chain alone would not show it).
- The month stamp stays in the INSERT (apps.audit.chain), not in the trigger: a BEFORE trigger
  on a partition may not change the time that routed the row there.
- The synchronous write that makes an event durable was an upsert into audit_wal_flush, which
  left a dead row for every read. A transactional logical message (`pg_logical_emit_message`)
  writes WAL and nothing else, and needs no privilege; the table goes.
"""

import importlib

from django.db import migrations, models

_body_text = importlib.import_module("apps.audit.migrations.0002_body_text")
_month_order = importlib.import_module("apps.audit.migrations.0004_chain_month_order")

SEARCH_COLUMNS = tuple(_body_text.GENERATED)

FORWARD = (
    "ALTER TABLE audit_event "
    + ", ".join(f"ALTER COLUMN {name} DROP EXPRESSION" for name in SEARCH_COLUMNS)
    + ";\n"
    + r"""
-- The canonical form hashed is unchanged: prev_hash "\n" seq "\n" time "\n" body.
CREATE OR REPLACE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head audit_chain_head%ROWTYPE;
    doc jsonb;
BEGIN
    -- The row lock gives the chain one total order across concurrent writers; it is released
    -- when the inserting transaction ends.
    SELECT * INTO head FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, repeat('0', 64))
            ON CONFLICT (id) DO NOTHING;
        SELECT * INTO head FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    END IF;
    IF NEW.occurred_at < date_trunc('month', head.occurred_at, 'UTC') THEN
        RAISE EXCEPTION 'audit event stamped % would be chained after an event of a later month',
            NEW.occurred_at USING ERRCODE = 'GDA01';
    END IF;
    NEW.seq := head.seq + 1;
    NEW.prev_hash := head.hash;
    NEW.hash := encode(sha256(convert_to(
        head.hash || E'\n' || NEW.seq::text || E'\n'
        || to_char(NEW.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        || E'\n' || NEW.body, 'UTF8')), 'hex');
    UPDATE audit_chain_head
        SET seq = NEW.seq, hash = NEW.hash,
            occurred_at = greatest(head.occurred_at, NEW.occurred_at)
        WHERE id = 1;
    -- The search columns, from one parse of the body (whatever the INSERT gave for them).
    doc := NEW.body::jsonb;
    NEW.kind := doc ->> 'kind';
    NEW.action := doc ->> 'action';
    NEW.user_id := (doc ->> 'user_id')::bigint;
    NEW.consumer_id := (doc ->> 'consumer_id')::bigint;
    NEW.provider_id := (doc ->> 'provider_id')::bigint;
    NEW.dataset_id := (doc ->> 'dataset_id')::bigint;
    NEW.outcome := NULLIF(doc ->> 'outcome', '');
    NEW.end_user := NULLIF(doc ->> 'end_user', '');
    RETURN NEW;
END $$;
"""
)

# Back to generated columns (as 0002 made them, rewriting the table) and 0004's trigger.
BACKWARD = (
    "ALTER TABLE audit_event "
    + ", ".join(f"DROP COLUMN {name}" for name in SEARCH_COLUMNS)
    + ";\nALTER TABLE audit_event "
    + ", ".join(f"ADD COLUMN {name} {spec}" for name, spec in _body_text.GENERATED.items())
    + ";\n"
    + "".join(
        f"CREATE INDEX {name} ON audit_event ({cols});\n"
        for name, cols in _body_text.INDEXES.items()
    )
    + _month_order.FORWARD[_month_order.FORWARD.index("CREATE OR REPLACE FUNCTION") :]
)


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_drop_field_purpose_indexes")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.DeleteModel(name="WalFlush"),
    ]
