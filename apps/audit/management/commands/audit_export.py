import sys

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from apps.audit.export import export_write
from apps.audit.signing import public_key_pem


class Command(BaseCommand):
    help = _(
        "Export the audit log with its checkpoints as NDJSON, verifiable offline with "
        "`python govdata/auditchain.py FILE --public-key KEY.pem`."
    )

    def add_arguments(self, parser):
        parser.add_argument("output", help=_("file to write, or - for standard output"))
        parser.add_argument("--public-key", help=_("also write the public key (PEM) here"))

    def handle(self, *args, output, public_key, **options):
        if output == "-":
            summary = export_write(sys.stdout.buffer)
        else:
            with open(output, "wb") as handle:
                summary = export_write(handle)
        if public_key:
            with open(public_key, "wb") as handle:
                handle.write(public_key_pem())
        self.stderr.write(_("%(n)d events exported.") % {"n": summary["events"]})
