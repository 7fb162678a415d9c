"""Alerts name every provider concerned (their auditors see and are mailed them) and keep their
summary as a message id with parameters, rendered in each reader's language."""

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_chain_month_order")]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="message",
            field=models.JSONField(blank=True, default=dict, verbose_name="summary as written"),
        ),
        migrations.AddField(
            model_name="alert",
            name="provider_ids",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(),
                blank=True,
                default=list,
                size=None,
                verbose_name="providers",
            ),
        ),
    ]
