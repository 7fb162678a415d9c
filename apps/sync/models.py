"""How each dataset is fed from its providing department's system, and the record of every run."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class SourceKind(models.TextChoices):
    CSV = "csv", _("CSV file upload")
    XLSX = "xlsx", _("Excel (.xlsx) file upload")
    SQL = "sql", _("Database (PostgreSQL, MySQL/MariaDB)")
    HTTP = "http", _("HTTP JSON API")


FILE_KINDS = frozenset({SourceKind.CSV, SourceKind.XLSX})


class SyncMode(models.TextChoices):
    FULL = "full", _("Full (replace all records)")
    INCREMENTAL = "incremental", _("Incremental (upsert changed records by key)")


class SyncConfig(models.Model):
    dataset = models.OneToOneField(
        "catalog.Dataset",
        verbose_name=_("dataset"),
        on_delete=models.CASCADE,
        related_name="sync_config",
    )
    kind = models.CharField(_("source kind"), max_length=8, choices=SourceKind.choices)
    mode = models.CharField(
        _("mode"), max_length=12, choices=SyncMode.choices, default=SyncMode.FULL
    )
    options = models.JSONField(
        _("source options"),
        default=dict,
        blank=True,
        help_text=_("Non-secret settings: table or query, API URL and pagination, encoding."),
    )
    secrets_encrypted = models.TextField(_("encrypted credentials"), blank=True, editable=False)
    watermark_column = models.CharField(_("watermark column"), max_length=63, blank=True)
    watermark_value = models.CharField(_("last watermark"), max_length=200, blank=True)
    reject_threshold = models.FloatField(
        _("rejected share that aborts a run"),
        default=0.05,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )
    scheduled = models.BooleanField(_("run on the update schedule"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("sync configuration")
        verbose_name_plural = _("sync configurations")

    def __str__(self) -> str:
        return f"{self.dataset.code} ← {self.get_kind_display()}"


class SyncRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        RETRYING = "retrying", _("Waiting to retry")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("Sync now")
        SCHEDULE = "schedule", _("Schedule")
        UPLOAD = "upload", _("File upload")

    dataset = models.ForeignKey(
        "catalog.Dataset", verbose_name=_("dataset"), on_delete=models.CASCADE, related_name="+"
    )
    config = models.ForeignKey(
        SyncConfig, verbose_name=_("configuration"), on_delete=models.CASCADE, related_name="runs"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    mode = models.CharField(_("mode"), max_length=12, choices=SyncMode.choices)
    # The source as it was when the run was requested, so that a re-delivered task re-reads the
    # very same file / watermark window and reaches the same final state.
    kind = models.CharField(_("source kind"), max_length=8, choices=SourceKind.choices)
    options = models.JSONField(_("source options"), default=dict)
    # The credentials too, pinned with the options they go with: a run waiting to retry must
    # not combine a table named then with a database chosen since. Emptied when the run ends,
    # so that no credential outlives the run it was copied for.
    secrets_encrypted = models.TextField(
        _("encrypted credentials"), blank=True, default="", editable=False
    )
    since = models.CharField(_("watermark at start"), max_length=200, blank=True)
    # The column `since` is a value of: the officer may change the config's column before the
    # run (or its redelivery after a crash) executes.
    watermark_column = models.CharField(
        _("watermark column"), max_length=63, blank=True, default=""
    )
    watermark_after = models.CharField(_("watermark at end"), max_length=200, blank=True)
    rows_read = models.BigIntegerField(_("read"), default=0)
    rows_inserted = models.BigIntegerField(_("inserted"), default=0)
    rows_updated = models.BigIntegerField(_("updated"), default=0)
    rows_removed = models.BigIntegerField(_("removed"), default=0)
    rows_rejected = models.BigIntegerField(_("rejected"), default=0)
    # How many of the rejected rows the quarantine report lists (it keeps at most
    # engine.MAX_STORED_REJECTIONS values): the list and the report say when it is cut.
    rejections_listed = models.BigIntegerField(_("rejected rows listed"), default=0)
    # Of rows_removed (a full run), the records whose new row was rejected: they were in the
    # source, but their row could not be loaded. None: not counted (too many rejected rows).
    rows_removed_rejected = models.BigIntegerField(
        _("removed because their new row was rejected"), null=True, blank=True, default=0
    )
    progress = models.FloatField(_("progress"), default=0.0)
    phase = models.CharField(_("phase"), max_length=20, blank=True)
    # In the platform's language, as the audit log records it; runs stored before error_text
    # existed have only this.
    error = models.TextField(_("error"), blank=True)
    # The error as a message id and parameters (apps.common.texts.Text.to_json), shown in the
    # reader's language (apps.sync.errors).
    error_text = models.JSONField(_("error (message and parameters)"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # When the uploaded file this run read was deleted (apps.sync.services.sync_uploads_purge).
    upload_deleted_at = models.DateTimeField(_("uploaded file deleted at"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The request an officer asked for the run through (an admin page: "sync now", an upload),
    # for the audit events of its publication or failure, written later by a worker that has
    # no request (apps.sync.recording). Empty for the schedule's runs. Text as the audit event
    # keeps it (apps.audit.services.RequestOrigin), so that an odd REMOTE_ADDR never refuses a run.
    request_id = models.CharField(_("Request ID"), max_length=64, blank=True, default="")
    client_ip = models.CharField(_("Client IP address"), max_length=45, blank=True, default="")
    created_at = models.DateTimeField(_("requested at"))
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    ACTIVE = (Status.QUEUED, Status.RUNNING, Status.RETRYING)
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        constraints = [
            # One run per dataset at a time: a second request is refused by the database.
            models.UniqueConstraint(
                fields=["dataset"],
                condition=Q(status__in=["queued", "running", "retrying"]),
                name="sync_run_one_active_per_dataset",
            )
        ]
        indexes = [models.Index(fields=["dataset", "-created_at"], name="sync_run_dataset_idx")]

    def __str__(self) -> str:
        return gettext("Sync run #%(run)s · %(dataset)s · %(status)s") % {
            "run": self.pk,
            "dataset": self.dataset,
            "status": self.get_status_display(),
        }

    @property
    def duration(self):
        if self.started_at is None:
            return None
        return (self.finished_at or self.started_at) - self.started_at


class SyncRejection(models.Model):
    """One quarantined value: the row that was not loaded, and why."""

    run = models.ForeignKey(
        SyncRun, verbose_name=_("run"), on_delete=models.CASCADE, related_name="rejections"
    )
    row_number = models.BigIntegerField(_("row"))
    field = models.CharField(_("field"), max_length=63, blank=True)
    reason = models.TextField(_("reason"))
    value = models.TextField(_("value"), blank=True)

    class Meta:
        ordering = ["run_id", "row_number", "id"]
        verbose_name = _("quarantined value")
        verbose_name_plural = _("quarantine")
        indexes = [models.Index(fields=["run", "row_number"], name="sync_rejection_run_idx")]

    def __str__(self) -> str:
        return f"row {self.row_number} {self.field}: {self.reason}"
