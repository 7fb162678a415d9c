"""`manage.py demo_load`: load the demo world of fixtures/demo_world.yaml (idempotent)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from apps.common.demo import access, loader
from apps.common.demo.objections import objections_load
from apps.common.demo.spec import DEFAULT_SPEC, spec_load


class Command(BaseCommand):
    help = (
        "Load the demo departments, users, datasets, records, grants, objections and API "
        "applications."
    )

    def add_arguments(self, parser):
        parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
        parser.add_argument(
            "--scale", type=float, default=1.0, help="multiply the record counts (tests use 0.01)"
        )
        parser.add_argument("--credentials", type=Path, default=access.CREDENTIALS_FILE)
        parser.add_argument("--quiet", action="store_true", help="do not print the logins")

    def handle(self, *args, spec: Path, scale: float, credentials: Path, quiet: bool, **options):
        world = spec_load(path=spec, scale=scale)
        report = loader.LoadReport()
        departments = loader.departments_load(spec=world, report=report)
        loader.users_load(spec=world, departments=departments, report=report)
        loader.catalog_and_records_load(spec=world, departments=departments, report=report)
        # Demo requests notify demo officers: no point mailing (or printing) those.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            access.grants_load(spec=world, departments=departments, report=report)
            objections_load(departments=departments, report=report)
        applications = access.applications_load(
            spec=world, departments=departments, report=report, path=credentials
        )
        data = access.credentials_write(report=report, applications=applications, path=credentials)
        if report.created:
            self.stdout.write("demo_load: created " + "; ".join(report.created))
        else:
            self.stdout.write("demo_load: the demo world is already loaded; nothing changed")
        total = sum(report.records.values())
        self.stdout.write(f"demo_load: {len(report.records)} datasets, {total:,} records")
        if not quiet:
            self.stdout.write(access.credentials_banner(data))
