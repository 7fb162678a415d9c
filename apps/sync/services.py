"""Writes of apps.sync: configure a dataset's source, request runs, take file uploads."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from apps.common import clock
from apps.sync.hosts import source_host_policy
from apps.sync.models import FILE_KINDS, SourceKind, SyncConfig, SyncMode, SyncRun
from apps.sync.permissions import require_manage_dataset_sync
from apps.sync.recording import SHA256_OPTION, record_run_failed, record_run_requested
from govdata.connectors import SourceFormatError
from govdata.crypto import secrets_encrypt

if TYPE_CHECKING:
    from apps.audit.services import RequestOrigin

UPLOAD_SUFFIXES = {".csv": SourceKind.CSV, ".txt": SourceKind.CSV, ".xlsx": SourceKind.XLSX}
_EXTENSION = {SourceKind.CSV: ".csv", SourceKind.XLSX: ".xlsx"}


class SyncAlreadyActive(Exception):
    """A run of the dataset is already queued or running: one run per dataset at a time."""


def sync_config_set(
    *,
    dataset,
    kind: str,
    by=None,
    mode: str = SyncMode.FULL,
    options: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
    watermark_column: str = "",
    reject_threshold: float = 0.05,
    scheduled: bool = True,
) -> SyncConfig:
    """Create or replace the dataset's source; `secrets` (URL with password, token) are stored
    encrypted and kept as they were when None is passed. `by`, the user acting (None for the
    platform itself), must be allowed to manage the dataset's sync."""
    if by is not None:
        require_manage_dataset_sync(by, dataset)
    if kind not in SourceKind.values:
        raise ValidationError({"kind": _("Unknown source kind “%(kind)s”.") % {"kind": kind}})
    if mode == SyncMode.INCREMENTAL and not watermark_column and kind not in FILE_KINDS:
        raise ValidationError(
            {"watermark_column": _("An incremental sync needs a watermark column.")}
        )
    if not 0.0 <= reject_threshold <= 1.0:
        raise ValidationError({"reject_threshold": _("Give a share between 0 and 1.")})
    for name, url in (
        ("secrets", (secrets or {}).get("url")),
        ("options", (options or {}).get("url")),
    ):
        if isinstance(url, str) and url:
            try:
                source_host_policy().check(url)
            except SourceFormatError as exc:
                raise ValidationError({name: str(exc)}) from None
    with transaction.atomic():
        config, _created = SyncConfig.objects.select_for_update().get_or_create(
            dataset=dataset, defaults={"kind": kind}
        )
        if config.watermark_column != watermark_column or config.kind != kind:
            config.watermark_value = ""  # a new source or column starts a new window
        config.kind, config.mode, config.options = kind, mode, options or {}
        config.watermark_column, config.reject_threshold = watermark_column, reject_threshold
        config.scheduled = scheduled
        if secrets is not None:
            config.secrets_encrypted = secrets_encrypt(secrets)
        config.save()
        from apps.sync.schedules import sync_schedule_apply

        sync_schedule_apply(config=config)
    return config


def sync_run_request(
    *,
    dataset,
    by=None,
    trigger: str = SyncRun.Trigger.MANUAL,
    kind: str | None = None,
    options: dict[str, Any] | None = None,
    enqueue: bool = True,
    origin: RequestOrigin | None = None,
) -> SyncRun:
    """Queue a run. Refused with SyncAlreadyActive while another run of the dataset is active,
    and with PermissionDenied when `by` (None: the schedule) may not manage the dataset's sync.
    A run `by` someone is recorded in the audit log with the run (`origin`: the request it came
    through, apps.audit.services.origin_of)."""
    if by is not None:
        require_manage_dataset_sync(by, dataset)
    try:
        config = SyncConfig.objects.get(dataset=dataset)
    except SyncConfig.DoesNotExist:
        raise ValidationError(_("The dataset has no sync source configured.")) from None
    if kind is None and config.kind in FILE_KINDS and not config.options.get("path"):
        raise ValidationError(_("Upload a file first: this dataset is fed by file uploads."))
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                dataset=dataset,
                config=config,
                trigger=trigger,
                mode=config.mode,
                kind=kind or config.kind,
                options=options if options is not None else dict(config.options),
                since=config.watermark_value if config.mode == SyncMode.INCREMENTAL else "",
                watermark_column=config.watermark_column,
                requested_by=by,
                created_at=clock.now(),
            )
            if by is not None:  # the schedule's runs are recorded when they publish or fail
                record_run_requested(run=run, by=by, origin=origin)
    except IntegrityError:
        active = SyncRun.objects.filter(dataset=dataset, status__in=SyncRun.ACTIVE).first()
        raise SyncAlreadyActive(
            _("A sync of %(dataset)s is already %(status)s (run #%(run)s); try again when it ends.")
            % {
                "dataset": dataset.code,
                "status": active.get_status_display() if active else _("active"),
                "run": active.pk if active else "?",
            }
        ) from None
    if enqueue:
        from apps.sync.tasks import sync_run_execute

        transaction.on_commit(lambda: sync_run_execute.delay(run.pk))
    return run


def upload_dir(dataset) -> Path:
    return Path(settings.MEDIA_ROOT) / "sync" / str(dataset.pk)


def upload_check(upload, *, kind: str | None = None) -> tuple[str, str]:
    """(file name, suffix) of an upload the platform can read, and that fits the source kind
    `kind` when given; else a ValidationError saying what is wrong with it (the admin's form
    asks before it saves anything)."""
    limit = int(settings.GOVDATA["UPLOAD_MAX_BYTES"])
    name = Path(getattr(upload, "name", "") or "upload").name
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise ValidationError(
            _("“%(name)s”: upload a .csv or .xlsx file.") % {"name": name}, code="file_type"
        )
    if kind is not None:
        upload_kind_check(name=name, kind=kind)
    if upload.size == 0:
        raise ValidationError(_("“%(name)s” is empty (0 bytes).") % {"name": name}, code="empty")
    if upload.size > limit:
        raise ValidationError(
            _("“%(name)s” is %(size)s, over the upload limit of %(limit)s.")
            % {"name": name, "size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            code="too_large",
        )
    return name, suffix


def upload_kind_check(*, name: str, kind: str) -> None:
    """Refuse a file that a source of kind `kind` does not read. An upload never changes the
    source kind the officer chose: switching it silently (a .xlsx sent to a CSV source) would
    leave the configuration other than the officer believes it is."""
    file_kind = UPLOAD_SUFFIXES.get(Path(name).suffix.lower())
    if file_kind is None or file_kind == kind:
        return  # an unreadable file type has a message of its own (upload_check)
    if kind not in FILE_KINDS:
        raise ValidationError(
            _(
                "“%(name)s”: a source of kind “%(kind)s” takes no file uploads; choose "
                "“%(file_kind)s” as the source kind."
            )
            % {"name": name, "kind": SourceKind(kind).label, "file_kind": file_kind.label},
            code="kind_mismatch",
        )
    raise ValidationError(
        _(
            "“%(name)s” is not a %(expected)s file, which this source (“%(kind)s”) expects; "
            "upload a %(expected)s file, or choose “%(file_kind)s” as the source kind."
        )
        % {
            "name": name,
            "expected": _EXTENSION[kind],
            "kind": SourceKind(kind).label,
            "file_kind": file_kind.label,
        },
        code="kind_mismatch",
    )


def sync_upload_store(
    *,
    dataset,
    upload,
    by=None,
    encoding: str = "",
    enqueue: bool = True,
    origin: RequestOrigin | None = None,
) -> SyncRun:
    """Check and store an officer's file, point the dataset's source at it and queue a run.
    A file of another kind than the dataset's configured source is refused (upload_kind_check);
    a dataset without a source gets one of the file's kind. The file's SHA-256 goes with the
    source options, for the run's audit events (apps.sync.recording)."""
    if by is not None:
        require_manage_dataset_sync(by, dataset)
    configured = SyncConfig.objects.filter(dataset=dataset).values_list("kind", flat=True).first()
    name, suffix = upload_check(upload, kind=configured)
    limit = int(settings.GOVDATA["UPLOAD_MAX_BYTES"])
    target_dir = upload_dir(dataset)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{clock.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}{suffix}"
    written = 0
    # Hashed while it is written: the file is read once, here, and never again for its hash.
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        for chunk in upload.chunks():
            written += len(chunk)
            if written > limit:  # the declared size can lie
                out.close()
                target.unlink(missing_ok=True)
                raise ValidationError(_("The file is over the upload limit."), code="too_large")
            out.write(chunk)
            digest.update(chunk)
    kind = UPLOAD_SUFFIXES[suffix]
    options = {"path": str(target), "original_name": name, SHA256_OPTION: digest.hexdigest()}
    if encoding:
        options["encoding"] = encoding
    with transaction.atomic():
        config, created = SyncConfig.objects.select_for_update().get_or_create(
            dataset=dataset, defaults={"kind": kind, "options": options, "scheduled": False}
        )
        if not created:
            if config.kind != kind:  # changed since the check above: refuse all the same
                target.unlink(missing_ok=True)
                upload_kind_check(name=name, kind=config.kind)
            config.options = {**config.options, **options}
            if not encoding:
                config.options.pop("encoding", None)
            config.save(update_fields=["options", "updated_at"])
        return sync_run_request(
            dataset=dataset,
            by=by,
            trigger=SyncRun.Trigger.UPLOAD,
            kind=kind,
            options=dict(config.options),
            enqueue=enqueue,
            origin=origin,
        )


def sync_run_fail(*, run: SyncRun, reason: str) -> SyncRun:
    """Give up on a run (retries exhausted); the published data is untouched. The failure and
    its audit event commit together; a run already finished is left as it is, unrecorded."""
    with transaction.atomic():
        failed = SyncRun.objects.filter(pk=run.pk, status__in=SyncRun.ACTIVE).update(
            status=SyncRun.Status.FAILED,
            error=reason[:4000],
            finished_at=clock.now(),
            phase="failed",
        )
        run.refresh_from_db()
        if failed:
            record_run_failed(run=run)
    return run


def sync_runs_requeue_stale(*, older_than_seconds: int | None = None) -> list[int]:
    """Re-send runs still active long after any worker could be on them (a message lost with
    the broker, say) so that no dataset stays blocked. Safe even if a worker is in fact still
    on one: the dataset lock makes the second delivery wait, and a finished run is a no-op."""
    from datetime import timedelta

    from apps.sync import engine
    from apps.sync.tasks import sync_run_execute

    limit = older_than_seconds or settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    cutoff = clock.now() - timedelta(seconds=limit)
    requeued = []
    for run in SyncRun.objects.filter(status__in=SyncRun.ACTIVE, created_at__lt=cutoff):
        if engine.dataset_lock_free(run.dataset_id):
            sync_run_execute.delay(run.pk)
            requeued.append(run.pk)
    return requeued
