"""Store each event's body as the JSON text it was hashed over (was jsonb).

Verification then streams the stored bytes with COPY instead of rendering jsonb to text for
every row, which was most of its cost. `USING body::text` keeps exactly the bytes already
hashed (the old trigger hashed body::text), so existing chains stay valid. The generated search
columns depend on body, so they and their indexes are dropped and recreated around the change.
"""

from django.db import migrations, models

GENERATED = {
    "kind": "text GENERATED ALWAYS AS (body::jsonb ->> 'kind') STORED",
    "action": "text GENERATED ALWAYS AS (body::jsonb ->> 'action') STORED",
    "user_id": "bigint GENERATED ALWAYS AS ((body::jsonb ->> 'user_id')::bigint) STORED",
    "consumer_id": "bigint GENERATED ALWAYS AS ((body::jsonb ->> 'consumer_id')::bigint) STORED",
    "provider_id": "bigint GENERATED ALWAYS AS ((body::jsonb ->> 'provider_id')::bigint) STORED",
    "dataset_id": "bigint GENERATED ALWAYS AS ((body::jsonb ->> 'dataset_id')::bigint) STORED",
    "outcome": "text GENERATED ALWAYS AS (NULLIF(body::jsonb ->> 'outcome', '')) STORED",
    "end_user": "text GENERATED ALWAYS AS (NULLIF(body::jsonb ->> 'end_user', '')) STORED",
}
INDEXES = {
    "audit_ev_consumer": "consumer_id, occurred_at, seq",
    "audit_ev_provider": "provider_id, occurred_at, seq",
    "audit_ev_dataset": "dataset_id, occurred_at, seq",
    "audit_ev_outcome": "outcome, occurred_at, seq",
    "audit_ev_end_user": "end_user, occurred_at",
}

FORWARD = (
    "ALTER TABLE audit_event "
    + ", ".join(f"DROP COLUMN {name}" for name in GENERATED)
    + ";\nALTER TABLE audit_event ALTER COLUMN body TYPE text USING body::text;\n"
    + "ALTER TABLE audit_event "
    + ", ".join(f"ADD COLUMN {name} {spec}" for name, spec in GENERATED.items())
    + ";\n"
    + "".join(f"CREATE INDEX {name} ON audit_event ({cols});\n" for name, cols in INDEXES.items())
    + r"""
-- The canonical form of an event, hashed with its predecessor's hash:
--   prev_hash "\n" seq "\n" time (UTC, microseconds) "\n" body
-- body is the JSON text exactly as written (the search columns are generated from it), so
-- verification hashes the stored bytes straight from COPY (govdata/auditchain.py).
CREATE OR REPLACE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash text;
BEGIN
    -- The row lock gives the chain one total order across concurrent writers; it is released
    -- when the inserting transaction ends.
    SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, repeat('0', 64))
            ON CONFLICT (id) DO NOTHING;
        SELECT seq, hash INTO head_seq, head_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    END IF;
    NEW.seq := head_seq + 1;
    NEW.prev_hash := head_hash;
    NEW.hash := encode(sha256(convert_to(
        head_hash || E'\n' || NEW.seq::text || E'\n'
        || to_char(NEW.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        || E'\n' || NEW.body, 'UTF8')), 'hex');
    UPDATE audit_chain_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
    RETURN NEW;
END $$;
"""
)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD)],
            state_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="body",
                    field=models.TextField(verbose_name="event"),
                )
            ],
        )
    ]
