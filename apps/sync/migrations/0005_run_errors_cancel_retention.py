"""Runs keep their error as a message id and parameters (error_text), pin their credentials
with their options, can be cancelled (status "cancelled", cancelled_by), say when they retry
(next_attempt_at), how many rejected rows their report lists (rejections_listed), how many
removed records were removed because their new row was rejected, and when their uploaded file
was deleted.

Existing runs:
- active ones take their configuration's current credentials: the ones they would have read at
  execution before this change (as 0004 did for the watermark column);
- rejections_listed is counted from the quarantine they kept;
- their error stays the text it was (shown as stored: apps.sync.errors.error_for_reader), but a
  duplicate-key error loses the keys it named (citizens' ID numbers, shown to auditors): the
  row numbers stay, the keys are in the quarantine report of newer runs.
"""

import re

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ACTIVE = ("queued", "running", "retrying")

# "key %(key)s in rows %(rows)s" as it was stored, in English and in Chinese.
_KEYS_NAMED = [
    (re.compile(r"key (?:(?!key ).)+? in rows "), "rows "),
    (re.compile(r"主键 (?:(?!主键 ).)+? 位于第 "), "第 "),
]
_DUPLICATES = ("Duplicate keys in the source:", "数据源中有重复主键：")


def forward(apps, schema_editor):
    SyncRun = apps.get_model("sync", "SyncRun")
    for run in SyncRun.objects.filter(status__in=ACTIVE).select_related("config"):
        run.secrets_encrypted = run.config.secrets_encrypted
        run.save(update_fields=["secrets_encrypted"])
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE sync_syncrun r SET rejections_listed = q.n FROM (SELECT run_id, "
            "count(DISTINCT row_number) AS n FROM sync_syncrejection GROUP BY run_id) q "
            "WHERE q.run_id = r.id"
        )
    for start in _DUPLICATES:
        for run in SyncRun.objects.filter(error__startswith=start).only("pk", "error"):
            error = run.error
            for pattern, replacement in _KEYS_NAMED:
                error = pattern.sub(replacement, error)
            if error != run.error:
                run.error = error
                run.save(update_fields=["error"])


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0004_syncrun_watermark_column"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="cancelled_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="cancelled by",
            ),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="error_text",
            field=models.JSONField(
                blank=True, null=True, verbose_name="error (message and parameters)"
            ),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="next attempt at"),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="rejections_listed",
            field=models.BigIntegerField(default=0, verbose_name="rejected rows listed"),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="rows_removed_rejected",
            field=models.BigIntegerField(
                blank=True,
                default=0,
                null=True,
                verbose_name="removed because their new row was rejected",
            ),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="secrets_encrypted",
            field=models.TextField(
                blank=True, default="", editable=False, verbose_name="encrypted credentials"
            ),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="upload_deleted_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="uploaded file deleted at"
            ),
        ),
        migrations.AlterField(
            model_name="syncrun",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("running", "Running"),
                    ("retrying", "Waiting to retry"),
                    ("succeeded", "Succeeded"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                ],
                default="queued",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
