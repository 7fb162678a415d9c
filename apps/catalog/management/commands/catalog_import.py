"""manage.py catalog_import DEPT FILE --as USER [--publish --reason WHY]"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from apps.catalog.imports import catalog_import, error_message
from apps.departments.models import Department
from govdata.responsibility_list import ResponsibilityListError


class Command(BaseCommand):
    help = "Import a responsibility list (.xlsx, .csv or .yaml) for one department, all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("department", help="department code")
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="username", required=True, help="acting officer")
        parser.add_argument("--publish", action="store_true")
        parser.add_argument("--reason", default="")

    def handle(self, *args, **options):
        try:
            department = Department.objects.get(code=options["department"])
            user = get_user_model().objects.get(username=options["username"])
        except (Department.DoesNotExist, get_user_model().DoesNotExist) as exc:
            raise CommandError(str(exc)) from exc
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            result = catalog_import(
                department=department,
                file=path.read_bytes(),
                filename=path.name,
                by=user,
                reason=options["reason"],
                publish=options["publish"],
            )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        except ResponsibilityListError as exc:
            for error in exc.errors:
                where = f"{error.sheet}!{error.column}{error.row or ''}"
                self.stderr.write(f"{where}: {error_message(error)}")
            raise CommandError(f"{len(exc.errors)} problem(s); nothing was imported.") from exc
        self.stdout.write(
            f"created {len(result.created)}, updated {len(result.updated)}, "
            f"unchanged {len(result.unchanged)}, published {len(result.published)}"
        )
