# Rows naming a catalogue field keep its name and label (and, for grants, the masking rule
# granted), so that they outlive the field's removal from the list (the FK becomes NULL); reasons
# the platform writes are also kept untranslated (apps.common.texts.Text as JSON).

import django.db.models.deletion
from django.db import migrations, models

MASKING = [
    ("none", "No masking"),
    ("id_card", "ID card number (first 6 and last 4 digits kept)"),
    ("mobile", "Mobile number (first 3 and last 4 digits kept)"),
    ("name", "Name (surname kept)"),
    ("address", "Address (down to the district)"),
    ("bank_card", "Bank card number (first 4 and last 4 digits kept)"),
    ("hash", "Keyed hash per consumer (comparable, not readable)"),
    ("year_only", "Date (year only)"),
    ("redact", "Hidden entirely"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_masking_labels"),
        ("sharing", "0004_notification_message"),
    ]

    operations = [
        migrations.AddField(
            model_name="datarequestfield",
            name="field_name",
            field=models.CharField(default="", max_length=63, verbose_name="field"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="datarequestfield",
            name="field_label",
            field=models.CharField(default="", max_length=200, verbose_name="label"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="grantfield",
            name="field_name",
            field=models.CharField(default="", max_length=63, verbose_name="field"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="grantfield",
            name="field_label",
            field=models.CharField(default="", max_length=200, verbose_name="label"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="grantfield",
            name="field_masking",
            field=models.CharField(
                choices=MASKING, default="none", max_length=16, verbose_name="masking rule granted"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="grantfield",
            name="removed_reason_message",
            field=models.JSONField(blank=True, null=True, verbose_name="reason as written"),
        ),
        migrations.AddField(
            model_name="grant",
            name="revoked_reason_message",
            field=models.JSONField(blank=True, null=True, verbose_name="reason as written"),
        ),
        migrations.AddField(
            model_name="requesttransition",
            name="reason_message",
            field=models.JSONField(blank=True, null=True, verbose_name="reason as written"),
        ),
        migrations.AlterField(
            model_name="datarequestfield",
            name="field",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="catalog.field",
            ),
        ),
        migrations.AlterField(
            model_name="grantfield",
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
