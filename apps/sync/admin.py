"""The officer's view of syncs: sources (with upload and "sync now") and runs (counts, duration,
live progress bar, quarantine report). Thin: every write goes through apps.sync.services, and
who may see or do what is decided by apps.sync.permissions. This module holds the model admins
(columns, forms, permissions, URLs); the pages behind those URLs are in apps.sync.admin_views."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from apps.audit.services import origin_of
from apps.common.admin_mixins import ReadOnlyAdminMixin
from apps.sync import permissions as perms
from apps.sync.admin_filters import RequestedWithinFilter
from apps.sync.admin_views import SyncConfigAdminViews, SyncRunAdminViews
from apps.sync.forms import SyncConfigForm, options_with_upload
from apps.sync.labels import (
    attempts_label,
    next_attempt_label,
    phase_label,
    progress_bar_value,
    progress_label,
    uploaded_file_name,
)
from apps.sync.models import SyncConfig, SyncRun
from apps.sync.selectors import (
    quarantine_truncation_note,
    run_error,
    sync_configs_for_user,
    sync_runs_for_user,
)
from apps.sync.services import (
    SyncAlreadyActive,
    sync_config_set,
    sync_upload_store,
    upload_retention_days,
)
from apps.sync.uploads import upload_limit_install, upload_refused_size
from govdata.crypto import secrets_decrypt

# Of a run's error, what the runs list shows (the run's page shows it whole).
ERROR_SUMMARY_CHARS = 200


def _progress_bar(run: SyncRun) -> str:
    value = progress_bar_value(run)
    return format_html(
        '<div class="sync-progress sync-progress-{}" data-url="{}" data-finished="{}">'
        '<progress max="1"{}></progress> <span>{}</span></div>',
        run.status,
        reverse("admin:sync_syncrun_progress", args=[run.pk]),
        "1" if run.status in SyncRun.FINISHED else "0",
        # No value: a bar that only moves, while the share read is unknown.
        format_html(' value="{}"', value) if value is not None else "",
        progress_label(run),
    )


def _file_name(options: dict) -> str:
    return uploaded_file_name(options) or "-"


@admin.register(SyncConfig)
class SyncConfigAdmin(SyncConfigAdminViews, admin.ModelAdmin):
    form = SyncConfigForm
    list_display = ["dataset", "kind", "mode", "watermark_column", "watermark_value", "scheduled",
                    "uploaded_file"]  # fmt: skip
    list_filter = ["kind", "mode"]
    readonly_fields = ["watermark_value", "uploaded_file"]
    change_form_template = "admin/sync/syncconfig/change_form.html"

    class Media:
        css = {"all": ["sync/progress.css"]}

    def get_queryset(self, request):
        return sync_configs_for_user(user=request.user)

    def has_module_permission(self, request) -> bool:
        return request.user.is_staff and perms.can_configure_syncs(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return perms.can_configure_syncs(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return perms.can_configure_syncs(request.user)  # rows are narrowed by get_queryset
        return perms.can_manage_dataset_sync(request.user, obj.dataset)

    def has_delete_permission(self, request, obj=None) -> bool:
        return perms.can_delete_sync_configs(request.user)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # A source belongs to its dataset: another dataset gets a configuration of its own.
        return fields + ["dataset"] if obj is not None else fields

    @admin.display(description=_("uploaded file"))
    def uploaded_file(self, config: SyncConfig) -> str:
        return _file_name(config.options)

    # The upload limit has to be in place before anything reads request.POST/FILES, and the CSRF
    # middleware reads POST before the view unless the view is csrf_exempt. The token is still
    # checked: changeform_view is wrapped in csrf_protect by Django itself, and runs after the
    # handler is installed (Django's "Modifying upload handlers on the fly").
    @method_decorator(csrf_exempt)
    def add_view(self, request, form_url="", extra_context=None):
        upload_limit_install(request)
        return super().add_view(request, form_url, extra_context)

    @method_decorator(csrf_exempt)
    def change_view(self, request, object_id, form_url="", extra_context=None):
        upload_limit_install(request)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # modelform_factory built this class for this call alone, so the size stays with this
        # request.
        form.refused_upload_size = upload_refused_size(request)
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "dataset":
            kwargs["queryset"] = perms.datasets_syncable(request.user).order_by("code")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        dataset = obj.dataset  # the form set it on add; it is read-only on change
        stored = (
            SyncConfig.objects.filter(dataset=dataset).values_list("options", flat=True).first()
        )
        secrets = None
        if data.get("connection_url") or data.get("api_token"):
            current = secrets_decrypt(obj.secrets_encrypted) if change else {}
            if data.get("connection_url"):
                current["url"] = data["connection_url"]
            if data.get("api_token"):
                current["token"] = data["api_token"]
            secrets = current
        saved = sync_config_set(
            dataset=dataset,
            by=request.user,
            kind=data["kind"],
            mode=data["mode"],
            options=options_with_upload(stored=stored or {}, entered=data.get("options") or {}),
            secrets=secrets,
            watermark_column=data.get("watermark_column", ""),
            reject_threshold=data["reject_percent"],  # a share: SyncConfigForm converts
            scheduled=data["scheduled"],
        )
        obj.pk = saved.pk
        obj.refresh_from_db()
        if data.get("upload"):
            try:
                run = sync_upload_store(
                    dataset=dataset,
                    upload=data["upload"],
                    by=request.user,
                    encoding=data.get("encoding", ""),
                    origin=origin_of(request),
                )
            except (ValidationError, SyncAlreadyActive) as exc:
                messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
            else:
                messages.success(
                    request, gettext("File received; run #%(run)s queued.") % {"run": run.pk}
                )

    def get_urls(self):
        return [
            path(
                "<int:pk>/sync-now/",
                self.admin_site.admin_view(require_POST(self.sync_now_view)),
                name="sync_syncconfig_sync_now",
            ),
            *super().get_urls(),
        ]


@admin.register(SyncRun)
class SyncRunAdmin(SyncRunAdminViews, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Runs are written by the engine alone: everyone who sees them only views them (an
    officer may cancel one that waits, through apps.sync.services)."""

    list_display = [
        "id",
        "dataset",
        "status",
        "trigger",
        "mode",
        "rows_read",
        "rows_inserted",
        "rows_updated",
        "rows_removed",
        "rows_rejected",
        "duration_display",
        "progress_display",
        "quarantine_link",
        "error_summary",
    ]
    list_filter = ["status", RequestedWithinFilter, "trigger", "mode"]
    list_select_related = ["dataset"]
    fields = readonly_fields = [
        "dataset", "config_link", "status", "trigger", "mode", "kind", "source_file", "since",
        "watermark_column", "watermark_after", "rows_read", "rows_inserted", "rows_updated",
        "removed_display", "rows_rejected", "progress_display", "phase_display", "error_display",
        "attempts_display", "next_attempt_display", "requested_by", "cancelled_by", "created_at",
        "started_at", "finished_at", "duration_display", "quarantine_link", "quarantine_note",
    ]  # fmt: skip
    change_form_template = "admin/sync/syncrun/change_form.html"

    class Media:
        css = {"all": ["sync/progress.css"]}
        js = ["sync/progress.js"]

    def get_queryset(self, request):
        return sync_runs_for_user(user=request.user)

    def has_module_permission(self, request) -> bool:
        return request.user.is_staff and perms.can_view_runs(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return perms.can_view_runs(request.user)  # rows are narrowed by get_queryset

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None and not perms.can_manage_dataset_sync(request.user, obj.dataset):
            fields.remove("config_link")  # a link to a page they may not open
        if obj is None or not quarantine_truncation_note(obj):
            fields.remove("quarantine_note")
        return fields

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        extra = {
            "can_cancel_run": run is not None
            and run.status in SyncRun.ACTIVE
            and perms.can_cancel_run(request.user, run),
            **(extra_context or {}),
        }
        return super().change_view(request, object_id, form_url, extra)

    @admin.display(description=_("configuration"))
    def config_link(self, run: SyncRun) -> str:
        # The run's own source kind: the configuration may have changed kind since.
        return format_html(
            '<a href="{}">{} ← {}</a>',
            reverse("admin:sync_syncconfig_change", args=[run.config_id]),
            run.dataset.code,
            run.get_kind_display(),
        )

    @admin.display(description=_("phase"))
    def phase_display(self, run: SyncRun) -> str:
        return phase_label(run.phase) or "-"

    @admin.display(description=_("uploaded file"))
    def source_file(self, run: SyncRun) -> str:
        name = _file_name(run.options)
        if name == "-" or run.upload_deleted_at is None:
            return name
        return gettext("%(name)s (deleted on %(date)s: uploads are kept %(days)d days)") % {
            "name": name,
            "date": date_format(timezone.localtime(run.upload_deleted_at), "DATE_FORMAT"),
            "days": upload_retention_days(),
        }

    @admin.display(description=_("removed"))
    def removed_display(self, run: SyncRun) -> str:
        because = run.rows_removed_rejected
        if not because:
            return str(run.rows_removed)
        return gettext(
            "%(removed)d (%(because)d of the removed records were removed because their new "
            "row was rejected: see the quarantine report)"
        ) % {"removed": run.rows_removed, "because": because}

    @admin.display(description=_("error"))
    def error_display(self, run: SyncRun) -> str:
        allowed = perms.source_text_allowed_on_row(run)
        return run_error(run=run, source_text_allowed=allowed) or "-"

    @admin.display(description=_("error"))
    def error_summary(self, run: SyncRun) -> str:
        return Truncator(self.error_display(run)).chars(ERROR_SUMMARY_CHARS)

    @admin.display(description=_("attempts"))
    def attempts_display(self, run: SyncRun) -> str:
        return attempts_label(run)

    @admin.display(description=_("next attempt"))
    def next_attempt_display(self, run: SyncRun) -> str:
        return next_attempt_label(run) or "-"

    @admin.display(description=_("duration"))
    def duration_display(self, run: SyncRun) -> str:
        duration = run.duration
        return "-" if duration is None else f"{duration.total_seconds():.1f} s"

    @admin.display(description=_("progress"))
    def progress_display(self, run: SyncRun) -> str:
        return _progress_bar(run)

    @admin.display(description=_("quarantine"))
    def quarantine_link(self, run: SyncRun) -> str:
        if not run.rows_rejected:
            return "-"
        if not run.quarantine_allowed:
            return gettext("%(n)d rows") % {"n": run.rows_rejected}
        if run.rejections_listed < run.rows_rejected:  # the report is cut: say so
            words = gettext("%(n)d rows (CSV: %(listed)d of them listed)") % {
                "n": run.rows_rejected,
                "listed": run.rejections_listed,
            }
        else:
            words = gettext("%(n)d rows (CSV)") % {"n": run.rows_rejected}
        return format_html(
            '<a href="{}" title="{}">{}</a>',
            reverse("admin:sync_syncrun_quarantine", args=[run.pk]),
            quarantine_truncation_note(run),
            words,
        )

    @admin.display(description=_("quarantine report"))
    def quarantine_note(self, run: SyncRun) -> str:
        return quarantine_truncation_note(run)

    def get_urls(self):
        return [
            path(
                "<int:pk>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="sync_syncrun_progress",
            ),
            path(
                "<int:pk>/quarantine.csv",
                self.admin_site.admin_view(self.quarantine_view),
                name="sync_syncrun_quarantine",
            ),
            path(
                "<int:pk>/cancel/",
                self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.cancel_view)),
                name="sync_syncrun_cancel",
            ),
            *super().get_urls(),
        ]
