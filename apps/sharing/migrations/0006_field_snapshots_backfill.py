# The name, label and masking rule of the fields existing requests and grants name, from the
# catalogue. A field already taken away from a grant gets the rule the holder read it under until
# then: the one of the version published before the publication that took it away (the field's
# published rule has moved on since), when that version is on record.

from django.db import migrations
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce


def backfill(apps, schema_editor):
    Field = apps.get_model("catalog", "Field")
    DatasetVersion = apps.get_model("catalog", "DatasetVersion")
    DataRequestField = apps.get_model("sharing", "DataRequestField")
    GrantField = apps.get_model("sharing", "GrantField")

    def of_field(column):
        return Subquery(Field.objects.filter(pk=OuterRef("field_id")).values(column)[:1])

    DataRequestField.objects.filter(field__isnull=False).update(
        field_name=of_field("name"), field_label=of_field("label")
    )
    GrantField.objects.filter(field__isnull=False).update(
        field_name=of_field("name"),
        field_label=of_field("label"),
        field_masking=Subquery(
            Field.objects.filter(pk=OuterRef("field_id"))
            .annotate(rule=Coalesce("published_masking", "masking"))
            .values("rule")[:1]
        ),
    )
    removed = GrantField.objects.filter(removed_at__isnull=False).select_related("grant")
    for item in removed.iterator():
        # The latest version published by the removal is the one that took the field away.
        versions = list(
            DatasetVersion.objects.filter(
                dataset_id=item.grant.dataset_id, published_at__lte=item.removed_at
            ).order_by("-version")[:2]
        )
        if len(versions) < 2:
            continue
        before = {f.get("name"): f.get("masking") for f in versions[1].snapshot.get("fields", [])}
        if before.get(item.field_name):
            GrantField.objects.filter(pk=item.pk).update(field_masking=before[item.field_name])


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_masking_labels"),
        ("sharing", "0005_field_snapshots_and_reason_messages"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
