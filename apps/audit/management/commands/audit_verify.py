import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from apps.audit.verification import chain_verify, search_columns_check


class Command(BaseCommand):
    help = _("Verify the audit log's hash chain and every signed checkpoint.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--search-columns",
            action="store_true",
            help=_(
                "Also check that every event's search columns (department, dataset, outcome, "
                "end user...) are what its body says (slower: parses every event)."
            ),
        )

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
        if options["search_columns"]:
            mismatch = search_columns_check()
            if mismatch is not None:
                raise CommandError(
                    _("Search columns differ from the event's body; first event: %(seq)s")
                    % {"seq": mismatch}
                )
            self.stdout.write(self.style.SUCCESS(_("Search columns match the events' bodies.")))
