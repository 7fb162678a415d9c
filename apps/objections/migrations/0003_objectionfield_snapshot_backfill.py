from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Field = apps.get_model("catalog", "Field")
    ObjectionField = apps.get_model("objections", "ObjectionField")

    def of_field(column):
        return Subquery(Field.objects.filter(pk=OuterRef("field_id")).values(column)[:1])

    ObjectionField.objects.filter(field__isnull=False).update(
        field_name=of_field("name"), field_label=of_field("label")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_masking_labels"),
        ("objections", "0002_objectionfield_snapshot"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
