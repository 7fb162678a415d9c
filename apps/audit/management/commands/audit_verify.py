import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from apps.audit.verification import chain_verify


class Command(BaseCommand):
    help = _("Verify the audit log's hash chain and every signed checkpoint.")

    def handle(self, *args, **options):
        started = time.perf_counter()
        result = chain_verify()
        elapsed = time.perf_counter() - started
        for problem in result.problems:
            self.stderr.write(problem)
        rate = result.events_checked / elapsed if elapsed else 0
        self.stdout.write(
            _("%(n)d events checked in %(s).2f s (%(rate).0f events/s).")
            % {"n": result.events_checked, "s": elapsed, "rate": rate}
        )
        if not result.ok:
            raise CommandError(
                _("Audit log verification FAILED; first bad event: %(seq)s")
                % {"seq": result.first_bad_event}
            )
        self.stdout.write(self.style.SUCCESS(_("Audit log verified.")))
