from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sharing", "0006_field_snapshots_backfill"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="datarequestfield",
            constraint=models.CheckConstraint(
                condition=models.Q(("field_name", ""), _negated=True),
                name="request_field_name_kept",
                violation_error_message="A row naming a field keeps the field's name.",
            ),
        ),
        migrations.AddConstraint(
            model_name="grantfield",
            constraint=models.CheckConstraint(
                condition=models.Q(("field_name", ""), _negated=True),
                name="grant_field_name_kept",
                violation_error_message="A row naming a field keeps the field's name.",
            ),
        ),
    ]
