from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("objections", "0003_objectionfield_snapshot_backfill"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="objectionfield",
            constraint=models.CheckConstraint(
                condition=models.Q(("field_name", ""), _negated=True),
                name="objection_field_name_kept",
                violation_error_message="A row naming a field keeps the field's name.",
            ),
        ),
    ]
