"""Every published dataset has a record store: datasets published before publication created
one (they got it at their first sync) are given an empty one, so that reading them answers
with no records instead of failing on a missing table."""

from django.db import migrations


def _create(apps, schema_editor):
    from apps.records.store import store_ensure_table

    Dataset = apps.get_model("catalog", "Dataset")
    for dataset in Dataset.objects.filter(status="published").prefetch_related("fields"):
        store_ensure_table(dataset)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0002_key_collation"),
        ("catalog", "0004_field_published_attributes"),
    ]
    operations = [migrations.RunPython(_create, migrations.RunPython.noop)]
