from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies: list = []
    operations = [
        migrations.RunSQL(
            "CREATE SCHEMA IF NOT EXISTS records", reverse_sql="DROP SCHEMA IF EXISTS records CASCADE"
        )
    ]
