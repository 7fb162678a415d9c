"""Text keys compare byte by byte (COLLATE "C", apps/records/store.py): convert the live tables
created before, so that every dataset orders and compares its keys alike."""

from django.db import migrations


def _convert(apps, schema_editor):
    from apps.records.store import key_collations_convert

    with schema_editor.connection.cursor() as cursor:
        key_collations_convert(cursor)


class Migration(migrations.Migration):
    # Each table in its own transaction: its exclusive lock is held only while its own key
    # index is rebuilt, not until every dataset is done.
    atomic = False
    dependencies = [
        ("records", "0001_schema"),
        ("catalog", "0004_field_published_attributes"),
    ]
    operations = [migrations.RunPython(_convert, migrations.RunPython.noop)]
