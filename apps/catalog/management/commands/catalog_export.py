"""manage.py catalog_export OUT.xlsx|OUT.csv [--department CODE]"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.catalog.exports import export_csv, export_xlsx
from apps.catalog.selectors import published_snapshots
from apps.departments.models import Department


class Command(BaseCommand):
    help = "Export the published responsibility list to .xlsx or CSV (UTF-8 with BOM)."

    def add_arguments(self, parser):
        parser.add_argument("output", type=Path)
        parser.add_argument("--department", action="append", default=[], help="department code")

    def handle(self, *args, **options):
        output: Path = options["output"]
        suffix = output.suffix.lower()
        if suffix not in {".xlsx", ".csv"}:
            raise CommandError("The output must end in .xlsx or .csv")
        provider_ids = None
        if options["department"]:
            found = Department.objects.filter(code__in=options["department"])
            missing = set(options["department"]) - {d.code for d in found}
            if missing:
                raise CommandError(f"Unknown department(s): {', '.join(sorted(missing))}")
            provider_ids = [d.pk for d in found]
        snapshots = published_snapshots(provider_ids=provider_ids)
        output.write_bytes(export_xlsx(snapshots) if suffix == ".xlsx" else export_csv(snapshots))
        self.stdout.write(f"{len(snapshots)} dataset(s) written to {output}")
