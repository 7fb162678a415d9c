"""Drop the two indexes of 0006; keep its function, which the field search still filters with.

Every record read appends its event while holding the chain lock, so what an insert costs
is paid by every reader. Measured on this platform's event bodies (psql, one INSERT per
statement, best of three): 115 µs without them, 175 µs with the trigram index on the purpose,
770 µs with the GIN index over audit_event_field_names(body). Auditors' searches are rare and
always bounded by the time index (and by department, dataset or outcome when given); reads
are constant. The field and purpose filters now refine what those indexes select."""

import importlib

from django.db import migrations

# Going back to 0006 builds its indexes again, as 0006 itself does.
_search = importlib.import_module("apps.audit.migrations.0006_event_field_purpose_search")

INDEXES = ("audit_ev_field_names", "audit_ev_purpose_trgm")


def forward(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for index in INDEXES:
            # Dropping a partitioned index drops its partitions' indexes with it.
            cursor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    atomic = False  # going back: CREATE INDEX CONCURRENTLY

    dependencies = [("audit", "0006_event_field_purpose_search")]
    operations = [migrations.RunPython(forward, _search.forward)]
