"""Each run keeps the request an officer asked for it through (request id and client address),
so that the audit events of its publication or failure, written later by a worker, name it as
the request's own event does. Runs stored before have none, as the schedule's runs."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0006_uploads_purge_schedule"),
    ]

    operations = [
        migrations.AddField(
            model_name="syncrun",
            name="client_ip",
            field=models.CharField(
                blank=True, default="", max_length=45, verbose_name="Client IP address"
            ),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="request_id",
            field=models.CharField(
                blank=True, default="", max_length=64, verbose_name="Request ID"
            ),
        ),
    ]
