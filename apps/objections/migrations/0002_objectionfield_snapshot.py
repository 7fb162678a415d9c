# An objection's field rows keep the field's name and label, so that they outlive the field's
# removal from the list (the FK becomes NULL).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_masking_labels"),
        ("objections", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="objectionfield",
            name="field_name",
            field=models.CharField(default="", max_length=63, verbose_name="field"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="objectionfield",
            name="field_label",
            field=models.CharField(default="", max_length=200, verbose_name="label"),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="objectionfield",
            name="field",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="catalog.field",
            ),
        ),
    ]
