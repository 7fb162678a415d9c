"""The sync admin's own pages, mixed into the model admins of apps.sync.admin (which wire their
URLs): "sync now" on a source; a run's live progress (JSON), its cancellation (GET asks, POST
cancels) and its quarantine report (CSV). Every write goes through apps.sync.services; who may
do what is apps.sync.permissions' answer."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext

from apps.audit.services import origin_of
from apps.common.admin_mixins import admin_datetime
from apps.sync import permissions as perms
from apps.sync.models import SyncRun
from apps.sync.selectors import run_progress, run_quarantine_csv
from apps.sync.services import (
    SyncAlreadyActive,
    SyncRunNotCancellable,
    sync_run_cancel,
    sync_run_request,
)


class SyncConfigAdminViews:
    """For SyncConfigAdmin: queue a run of the source now."""

    def sync_now_view(self, request, pk: int):
        config = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_change_permission(request, config):
            raise PermissionDenied
        try:
            run = sync_run_request(
                dataset=config.dataset, by=request.user, origin=origin_of(request)
            )
        except (SyncAlreadyActive, ValidationError) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
            return HttpResponseRedirect(reverse("admin:sync_syncconfig_change", args=[pk]))
        messages.success(request, gettext("Run #%(run)s queued.") % {"run": run.pk})
        return HttpResponseRedirect(reverse("admin:sync_syncrun_change", args=[run.pk]))


class SyncRunAdminViews:
    """For SyncRunAdmin: its progress, cancel and quarantine pages. The summary of the cancel
    page reads the admin's own columns (attempts_display, next_attempt_display)."""

    def progress_view(self, request, pk: int):
        run = get_object_or_404(self.get_queryset(request), pk=pk)
        allowed = perms.can_read_source_text(request.user, run)
        return JsonResponse(run_progress(run=run, source_text_allowed=allowed))

    def cancel_view(self, request, pk: int):
        """GET asks (what the run is, what cancelling does); only the POST cancels."""
        run = get_object_or_404(self.get_queryset(request), pk=pk)
        if not perms.can_cancel_run(request.user, run):
            raise PermissionDenied
        page = reverse("admin:sync_syncrun_change", args=[run.pk])
        if request.method == "GET":
            if run.status not in SyncRun.ACTIVE:
                messages.error(
                    request,
                    gettext("Run #%(run)s has already ended (%(status)s).")
                    % {"run": run.pk, "status": run.get_status_display()},
                )
                return HttpResponseRedirect(page)
            return TemplateResponse(
                request,
                "admin/sync/syncrun/cancel_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.opts,
                    "title": gettext("Cancel this run"),
                    "run": run,
                    "summary": self._cancel_summary(run),
                    "back_url": page,
                },
            )
        try:
            sync_run_cancel(run=run, by=request.user, origin=origin_of(request))
        except SyncRunNotCancellable as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, gettext("Run #%(run)s cancelled.") % {"run": run.pk})
        return HttpResponseRedirect(page)

    def _cancel_summary(self, run: SyncRun) -> list[tuple[str, str]]:
        def label(name: str) -> str:
            return SyncRun._meta.get_field(name).verbose_name

        requested_at = admin_datetime(run.created_at)
        return [
            (label("dataset"), str(run.dataset)),
            (label("status"), run.get_status_display()),
            (label("trigger"), run.get_trigger_display()),
            (label("requested_by"), str(run.requested_by or "-")),
            (label("created_at"), requested_at),
            (self.attempts_display.short_description, self.attempts_display(run)),
            (self.next_attempt_display.short_description, self.next_attempt_display(run)),
        ]

    def quarantine_view(self, request, pk: int):
        run = get_object_or_404(self.get_queryset(request), pk=pk)
        if not perms.can_download_quarantine(request.user, run):
            raise PermissionDenied
        response = StreamingHttpResponse(
            run_quarantine_csv(run=run), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="quarantine-{run.dataset.code}-run{run.pk}.csv"'
        )
        return response
