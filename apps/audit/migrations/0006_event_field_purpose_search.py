"""Indexes for the auditors' "field" and "purpose" searches (console and /api/v1/audit/events/).

- `audit_event_field_names(body)`: the field names an access event concerns, lower-cased: the
  fields it returned, and those it asked for (`filters.fields`), filtered on (`filters` keys,
  without `__in`/`__gte`/... and the reserved parameters) or ordered by (`filters.ordering`).
  A denied read returned nothing (`fields` is `{}`), so without the others "who tried to get
  the field" finds nothing. GIN over that array: `@> ARRAY['address']`.
- `(body::jsonb ->> 'purpose')` with pg_trgm, for the "purpose contains" search (ILIKE '%...%';
  trigrams work on Chinese text under the C.UTF-8 and zh_CN locales).

The table may hold a hundred million rows and every read appends to it under the chain lock,
so the indexes are built without blocking inserts: declared on the parent only (invalid), built
CONCURRENTLY on each partition, then attached (the parent's becomes valid once every partition
has one). Partitions created later get them from the parent. Re-runnable: IF NOT EXISTS
everywhere and attachments already made are skipped.
"""

from django.db import migrations

FIELD_NAMES_FUNCTION = r"""
CREATE OR REPLACE FUNCTION audit_event_field_names(body text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT coalesce(array_agg(DISTINCT name ORDER BY name), '{}')
FROM (SELECT body::jsonb AS j) AS event,
LATERAL (
    SELECT lower(k) AS name
    FROM jsonb_object_keys(CASE WHEN jsonb_typeof(j -> 'fields') = 'object'
                                THEN j -> 'fields' ELSE '{}' END) AS k
    UNION ALL
    SELECT lower(ltrim(btrim(p), '-'))
    FROM regexp_split_to_table(concat_ws(',', j -> 'filters' ->> 'fields',
                                         j -> 'filters' ->> 'ordering'), ',') AS p
    UNION ALL
    SELECT lower(regexp_replace(k, '__(exact|in|gte|lte|contains)$', ''))
    FROM jsonb_object_keys(CASE WHEN jsonb_typeof(j -> 'filters') = 'object'
                                THEN j -> 'filters' ELSE '{}' END) AS k
    WHERE k NOT IN ('fields', 'ordering', 'cursor', 'page_size', 'format')
) AS names
WHERE name <> ''
$$;
"""

# name -> (suffix of each partition's index, index method and expression)
INDEXES = {
    "audit_ev_field_names": ("fnames", "gin (audit_event_field_names(body))"),
    "audit_ev_purpose_trgm": ("purpose", "gin ((body::jsonb ->> 'purpose') gin_trgm_ops)"),
}


def _partitions(cursor) -> list[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'audit_event'"
        " ORDER BY c.relname"
    )
    return [row[0] for row in cursor.fetchall()]


def _attached(cursor, parent: str) -> set[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
        [parent],
    )
    return {row[0] for row in cursor.fetchall()}


def _drop_if_invalid(cursor, index: str) -> None:
    """A CONCURRENTLY build that was interrupted leaves an invalid index behind; IF NOT EXISTS
    would keep it, and it could not be attached."""
    cursor.execute(
        "SELECT NOT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE c.relname = %s",
        [index],
    )
    row = cursor.fetchone()
    if row and row[0]:
        cursor.execute(f"DROP INDEX CONCURRENTLY {index}")


def forward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute(FIELD_NAMES_FUNCTION)
        for parent, (suffix, spec) in INDEXES.items():
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {parent} ON ONLY audit_event USING {spec}")
            attached = _attached(cursor, parent)
            for partition in _partitions(cursor):
                child = f"{partition}_{suffix}"[:63]
                if child in attached:
                    continue
                _drop_if_invalid(cursor, child)
                cursor.execute(
                    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {child} ON {partition} USING {spec}"
                )
                cursor.execute(f"ALTER INDEX {parent} ATTACH PARTITION {child}")


def backward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for parent in INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {parent}")
        cursor.execute("DROP FUNCTION IF EXISTS audit_event_field_names(text)")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [("audit", "0005_alert_providers_message")]

    operations = [migrations.RunPython(forward, backward)]
