"""Chain events in month order: an event is never chained after one of a later (UTC) month.

Partitions are UTC months and leave oldest first; the chain left in the database must start
right after the last archive. An event's time was taken by the request before it waited for
the chain lock, so at a month's end a request stamped 23:59:59.999 could be chained after one
stamped 00:00:00.001 of the next month, and the older month could then never be archived
without leaving a gap. The head now keeps the latest time chained; appends stamp an event no
earlier than the first instant of that time's month (apps.audit.chain), and the trigger refuses
one that is (an insert that bypasses chain_append) rather than chain it out of order.
"""

from django.db import migrations, models

FORWARD = r"""
ALTER TABLE audit_chain_head ADD COLUMN occurred_at timestamptz;
UPDATE audit_chain_head SET occurred_at = (SELECT max(occurred_at) FROM audit_event);

CREATE OR REPLACE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash text;
    head_time timestamptz;
BEGIN
    -- The row lock gives the chain one total order across concurrent writers; it is released
    -- when the inserting transaction ends.
    SELECT seq, hash, occurred_at INTO head_seq, head_hash, head_time
        FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, repeat('0', 64))
            ON CONFLICT (id) DO NOTHING;
        SELECT seq, hash, occurred_at INTO head_seq, head_hash, head_time
            FROM audit_chain_head WHERE id = 1 FOR UPDATE;
    END IF;
    IF NEW.occurred_at < date_trunc('month', head_time, 'UTC') THEN
        RAISE EXCEPTION 'audit event stamped % would be chained after an event of a later month',
            NEW.occurred_at USING ERRCODE = 'GDA01';
    END IF;
    NEW.seq := head_seq + 1;
    NEW.prev_hash := head_hash;
    NEW.hash := encode(sha256(convert_to(
        head_hash || E'\n' || NEW.seq::text || E'\n'
        || to_char(NEW.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        || E'\n' || NEW.body, 'UTF8')), 'hex');
    UPDATE audit_chain_head
        SET seq = NEW.seq, hash = NEW.hash, occurred_at = greatest(head_time, NEW.occurred_at)
        WHERE id = 1;
    RETURN NEW;
END $$;
"""

BACKWARD = r"""
CREATE OR REPLACE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash text;
BEGIN
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
ALTER TABLE audit_chain_head DROP COLUMN occurred_at;
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_wal_flush")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(FORWARD, BACKWARD)],
            state_operations=[
                migrations.AddField(
                    model_name="chainhead",
                    name="occurred_at",
                    field=models.DateTimeField(null=True),
                )
            ],
        )
    ]
