import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from apps.audit.export import ExportRangeError, export_range_check, export_write
from apps.audit.signing import public_key_pem


class Command(BaseCommand):
    help = _(
        "Export the audit log with its checkpoints as NDJSON, verifiable offline with "
        "`python govdata/auditchain.py FILE --public-key KEY.pem`. The export signs a "
        "checkpoint of the head it exports, so that every event in it is vouched for."
    )

    def add_arguments(self, parser):
        parser.add_argument("output", help=_("file to write, or - for standard output"))
        parser.add_argument("--public-key", help=_("also write the public key (PEM) here"))
        parser.add_argument(
            "--from-seq", type=int, help=_("first event to export (default: the oldest)")
        )
        parser.add_argument(
            "--to-seq",
            type=int,
            help=_("last event to export; the export runs on to the next checkpoint"),
        )

    def handle(self, *args, output, public_key, from_seq, to_seq, **options):
        try:
            export_range_check(from_seq=from_seq, to_seq=to_seq)
            if output == "-":
                summary = export_write(sys.stdout.buffer, from_seq=from_seq, to_seq=to_seq)
            else:
                with open(output, "wb") as handle:
                    summary = export_write(handle, from_seq=from_seq, to_seq=to_seq)
        except ExportRangeError as exc:
            raise CommandError(str(exc)) from exc
        if public_key:
            with open(public_key, "wb") as handle:
                handle.write(public_key_pem())
        self.stderr.write(_("%(n)d events exported.") % {"n": summary["events"]})
