"""Drop the SQL helpers of the former SQL fast path (migration 0002): the CSV fast path now
validates in the worker with Arrow (apps/sync/fastpath.py) and nothing calls them any more.
Reversing recreates them exactly as 0002 did."""

from importlib import import_module

from django.db import migrations

_0002 = import_module("apps.sync.migrations.0002_fast_path_sql_functions")


class Migration(migrations.Migration):
    dependencies = [("sync", "0002_fast_path_sql_functions")]

    operations = [migrations.RunSQL(_0002.BACKWARD, _0002.FORWARD)]
