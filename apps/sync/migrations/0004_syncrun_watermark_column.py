"""Pin the watermark column on each run, as `since` already is.

Runs still active when this is applied take their config's current column: the one they would
have read at execution before this change. Finished runs keep "": their column is not known."""

from django.db import migrations, models

ACTIVE = ("queued", "running", "retrying")


def pin_active_runs(apps, schema_editor):
    SyncRun = apps.get_model("sync", "SyncRun")
    for run in SyncRun.objects.filter(status__in=ACTIVE).select_related("config"):
        run.watermark_column = run.config.watermark_column
        run.save(update_fields=["watermark_column"])


class Migration(migrations.Migration):
    dependencies = [("sync", "0003_drop_fast_path_sql_functions")]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="watermark_column",
            field=models.CharField(
                blank=True, default="", max_length=63, verbose_name="watermark column"
            ),
        ),
        migrations.RunPython(pin_active_runs, migrations.RunPython.noop),
    ]
