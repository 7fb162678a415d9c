from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from apps.audit.partitions import (
    partition_archive,
    partitions_archive_older_than,
    partitions_ensure,
    partitions_list,
)


class Command(BaseCommand):
    help = _("List, create ahead, or archive the monthly partitions of the audit log.")

    def add_arguments(self, parser):
        parser.add_argument("--ensure", type=int, metavar="MONTHS", help=_("create months ahead"))
        parser.add_argument("--archive", metavar="PARTITION", help=_("archive one partition"))
        parser.add_argument(
            "--archive-older-than", type=int, metavar="MONTHS", help=_("archive old months")
        )

    def handle(self, *args, ensure, archive, archive_older_than, **options):
        if ensure is not None:
            for name in partitions_ensure(months_ahead=ensure):
                self.stdout.write(_("created %(name)s") % {"name": name})
        if archive:
            record = partition_archive(name=archive)
            self.stdout.write(
                _("archived %(name)s to %(path)s") % {"name": archive, "path": record.path}
            )
        if archive_older_than is not None:
            for name in partitions_archive_older_than(months=archive_older_than):
                self.stdout.write(_("archived %(name)s") % {"name": name})
        for name in partitions_list():
            self.stdout.write(name)
