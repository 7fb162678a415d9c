"""Writes of apps.sync: configure a dataset's source, request and cancel runs, take file uploads
and delete them when their retention ends."""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from apps.common import clock
from apps.common.texts import Text
from apps.sync.errors import in_platform_language
from apps.sync.hosts import source_host_policy
from apps.sync.models import FILE_KINDS, SourceKind, SyncConfig, SyncMode, SyncRun
from apps.sync.permissions import require_manage_dataset_sync
from apps.sync.recording import (
    SHA256_OPTION,
    record_run_cancelled,
    record_run_failed,
    record_run_requested,
    record_uploads_deleted,
)
from govdata.connectors import SourceFormatError
from govdata.crypto import secrets_encrypt

if TYPE_CHECKING:
    from apps.audit.services import RequestOrigin

log = logging.getLogger(__name__)

# Days an uploaded source file is kept (settings.GOVDATA["SYNC_UPLOAD_RETENTION_DAYS"]).
DEFAULT_UPLOAD_RETENTION_DAYS = 30

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
    through, apps.audit.services.origin_of); the run keeps `origin` for the events of its
    publication or failure."""
    if by is not None:
        require_manage_dataset_sync(by, dataset)
    try:
        config = SyncConfig.objects.get(dataset=dataset)
    except SyncConfig.DoesNotExist:
        raise ValidationError(_("The dataset has no sync source configured.")) from None
    if kind is None and config.kind in FILE_KINDS:
        path = config.options.get("path")
        if not path:
            raise ValidationError(_("Upload a file first: this dataset is fed by file uploads."))
        # Only when the retention deleted it (sync_uploads_purge): a file missing for another
        # reason is for the run to report.
        deleted = SyncRun.objects.filter(
            config=config, options__path=path, upload_deleted_at__isnull=False
        )
        if deleted.exists():
            raise ValidationError(
                _(
                    "The last uploaded file is no longer kept (uploads are deleted after "
                    "%(days)d days); upload the file again."
                )
                % {"days": upload_retention_days()}
            )
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                dataset=dataset,
                config=config,
                trigger=trigger,
                mode=config.mode,
                kind=kind or config.kind,
                options=options if options is not None else dict(config.options),
                # Pinned with the options, for the same reason (models.SyncRun): what runs is
                # what was asked for, on every attempt, whatever the officer changes meanwhile.
                secrets_encrypted=config.secrets_encrypted,
                since=config.watermark_value if config.mode == SyncMode.INCREMENTAL else "",
                watermark_column=config.watermark_column,
                requested_by=by,
                # For the events of its publication or failure, written by a worker later.
                request_id=origin.request_id[:64] if origin else "",
                client_ip=(origin.client_ip or "")[:45] if origin else "",
                created_at=clock.now(),
            )
            if by is not None:  # the schedule's runs are recorded when they publish or fail
                record_run_requested(run=run, by=by, origin=origin)
    except IntegrityError:
        active = SyncRun.objects.filter(dataset=dataset, status__in=SyncRun.ACTIVE).first()
        raise SyncAlreadyActive(
            _(
                "A sync of %(dataset)s is already %(status)s (run #%(run)s); try again when it "
                "ends, or cancel that run on its page if it is queued or waiting to retry."
            )
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


def sync_run_fail(*, run: SyncRun, reason: Text | str) -> SyncRun:
    """Give up on a run (retries exhausted); the published data is untouched. The failure and
    its audit event commit together; a run already finished is left as it is, unrecorded.
    `reason`: a Text (apps.sync.errors.error_text), or a text shown as it is."""
    if not isinstance(reason, Text):
        reason = Text(reason)
    with transaction.atomic():
        failed = SyncRun.objects.filter(pk=run.pk, status__in=SyncRun.ACTIVE).update(
            status=SyncRun.Status.FAILED,
            error=in_platform_language(reason)[:4000],
            error_text=reason.to_json(),
            finished_at=clock.now(),
            next_attempt_at=None,
            phase="failed",
            secrets_encrypted="",
        )
        run.refresh_from_db()
        if failed:
            record_run_failed(run=run)
    return run


def sync_run_next_attempt_set(*, run_id: int, seconds: int) -> None:
    """The run, waiting to retry, is sent again in `seconds`: the run page says when."""
    SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.RETRYING).update(
        next_attempt_at=clock.now() + timedelta(seconds=seconds)
    )


class SyncRunNotCancellable(Exception):
    """The run is executing right now, or has ended."""


def sync_run_cancel(*, run: SyncRun, by, origin: RequestOrigin | None = None) -> SyncRun:
    """Cancel a run that is queued or waiting to retry (a source that is down keeps its dataset
    blocked for the retries' minutes otherwise). Refused with SyncRunNotCancellable while a
    worker executes it: decided under the dataset's lock, the one every execution holds
    (engine.dataset_lock), so the task cannot start in between; a retry that fires later finds
    the run finished and does nothing. Recorded in the audit log with who and through which
    request, in the same transaction."""
    from apps.sync import engine

    require_manage_dataset_sync(by, run.dataset)
    with engine.dataset_lock(run.dataset_id) as held:
        if not held:
            raise SyncRunNotCancellable(
                _("Run #%(run)s is executing right now; it can only be cancelled while it waits.")
                % {"run": run.pk}
            )
        with transaction.atomic():
            current = SyncRun.objects.select_for_update().get(pk=run.pk)
            if current.status not in SyncRun.ACTIVE:
                raise SyncRunNotCancellable(
                    _("Run #%(run)s has already ended (%(status)s).")
                    % {"run": run.pk, "status": current.get_status_display()}
                )
            waited_as = current.status
            current.status, current.phase = SyncRun.Status.CANCELLED, "cancelled"
            current.finished_at, current.cancelled_by = clock.now(), by
            current.next_attempt_at, current.secrets_encrypted = None, ""
            current.save(
                update_fields=[
                    "status", "phase", "finished_at", "cancelled_by", "next_attempt_at",
                    "secrets_encrypted",
                ]
            )  # fmt: skip
            record_run_cancelled(run=current, by=by, waited_as=waited_as, origin=origin)
    return current


def upload_retention_days() -> int:
    return int(settings.GOVDATA.get("SYNC_UPLOAD_RETENTION_DAYS", DEFAULT_UPLOAD_RETENTION_DAYS))


def sync_uploads_purge(*, retention_days: int | None = None) -> list[str]:
    """Delete uploaded source files (personal data) older than the retention, except the file
    of each configuration's latest successful run (the one its published records come from)
    and those of runs still to execute. Each dataset's deletions are recorded in the audit log
    (names, SHA-256, the runs that read them) and on those runs (upload_deleted_at), before the
    files go. Returns the deleted files' paths."""
    days = upload_retention_days() if retention_days is None else retention_days
    root = Path(settings.MEDIA_ROOT) / "sync"
    if not root.is_dir():
        return []
    now = clock.now()
    cutoff = (now - timedelta(days=days)).timestamp()
    latest_ok = (
        SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED, kind__in=FILE_KINDS)
        .order_by("config_id", "-created_at", "-id")
        .distinct("config_id")
        .values_list("options", flat=True)
    )
    pending = SyncRun.objects.filter(status__in=SyncRun.ACTIVE).values_list("options", flat=True)
    keep = {_resolved(o.get("path")) for o in [*latest_ok, *pending] if o.get("path")}
    old: dict[str, list[Path]] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit()):
        for path in sorted(folder.iterdir()):
            if path.is_file() and _resolved(path) not in keep and path.stat().st_mtime < cutoff:
                old.setdefault(folder.name, []).append(path)
    deleted: list[str] = []
    for dataset_id, paths in old.items():
        deleted += _uploads_delete(int(dataset_id), paths, days=days, now=now)
    return deleted


def _resolved(path) -> str:
    return str(Path(path).resolve())


def _uploads_delete(dataset_id: int, paths: list[Path], *, days: int, now) -> list[str]:
    from apps.catalog.models import Dataset

    by_path = {_resolved(p): p for p in paths}
    runs = [
        run
        for run in SyncRun.objects.filter(
            dataset_id=dataset_id, kind__in=FILE_KINDS, upload_deleted_at__isnull=True
        ).only("pk", "options")
        if run.options.get("path") and _resolved(run.options["path"]) in by_path
    ]
    files = []
    for resolved, path in by_path.items():
        read_by = [r for r in runs if _resolved(r.options["path"]) == resolved]
        entry: dict[str, Any] = {"stored_name": path.name, "runs": [r.pk for r in read_by]}
        if read_by:
            entry["file_name"] = read_by[0].options.get("original_name", "")
            entry["file_sha256"] = read_by[0].options.get(SHA256_OPTION, "")
        files.append(entry)
    dataset = Dataset.objects.filter(pk=dataset_id).select_related("provider").first()
    with transaction.atomic():
        SyncRun.objects.filter(pk__in=[r.pk for r in runs]).update(upload_deleted_at=now)
        if dataset is not None:
            record_uploads_deleted(dataset=dataset, files=files, retention_days=days)
    deleted = []
    for path in by_path.values():
        try:
            path.unlink(missing_ok=True)
        except OSError:  # recorded as deleted; the next purge tries again
            log.warning("could not delete the uploaded file %s", path, exc_info=True)
            continue
        deleted.append(str(path))
    return deleted


def sync_runs_requeue_stale(*, older_than_seconds: int | None = None) -> list[int]:
    """Re-send runs still active long after any worker could be on them (a message lost with
    the broker, say) so that no dataset stays blocked. Safe even if a worker is in fact still
    on one: the dataset lock makes the second delivery wait, and a finished run is a no-op."""
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
