"""The audit events of syncs: an officer's request for a run, a run that publishes (and so
replaces or changes the dataset's published records), a run that ends failed, a run an officer
cancelled, and uploaded files deleted at the end of their retention.

Each is one INSERT into the hash-chained log, written in the transaction of the change it
records: if the event cannot be written the change rolls back (no change without its audit
record). Auditors find them by dataset and provider like the reads of the same records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from apps.sync.errors import in_platform_language, stored_error_text, withhold_source_text
from apps.sync.labels import uploaded_file_name
from apps.sync.models import FILE_KINDS, SyncRun

if TYPE_CHECKING:
    from apps.audit.services import RequestOrigin

REQUEST = "sync.request"
PUBLISH = "sync.publish"
FAIL = "sync.fail"
CANCEL = "sync.cancel"
UPLOADS_DELETE = "sync.uploads_delete"

# Where an upload's SHA-256 is kept among the run's source options (apps.sync.services
# sync_upload_store computes it while storing the file, so no run ever reads the file for it).
SHA256_OPTION = "sha256"


def run_origin(run: SyncRun) -> RequestOrigin:
    """The request an officer asked for `run` through, kept on the run: its publication or
    failure is recorded by a worker, outside any request. Empty for the schedule's runs."""
    from apps.audit.services import RequestOrigin

    return RequestOrigin(request_id=run.request_id, client_ip=run.client_ip or None)


def run_target(run: SyncRun) -> str:
    return f"sync_run:{run.pk}"


def run_source_details(run: SyncRun) -> dict[str, Any]:
    """What was (or is to be) loaded: mode, source kind, trigger and, for an upload, the file's
    name as the officer had it (never where the server stored it) and its SHA-256."""
    details: dict[str, Any] = {"mode": run.mode, "source_kind": run.kind, "trigger": run.trigger}
    # A source switched from files to a database keeps the last upload's options: not its file.
    name = uploaded_file_name(run.options) if run.kind in FILE_KINDS else ""
    if name:
        details["file_name"] = name
        sha256 = run.options.get(SHA256_OPTION)
        if sha256:
            details["file_sha256"] = sha256
    return details


def _counts(run: SyncRun) -> dict[str, int]:
    return {
        "rows_read": run.rows_read,
        "rows_inserted": run.rows_inserted,
        "rows_updated": run.rows_updated,
        "rows_removed": run.rows_removed,
        "rows_rejected": run.rows_rejected,
    }


def _record(*, action: str, run: SyncRun, actor, details: dict[str, Any], origin=None) -> None:
    _record_about(
        action=action,
        dataset=run.dataset,
        target=run_target(run),
        actor=actor,
        details=details,
        origin=origin,
    )


def _record_about(*, action: str, dataset, target: str, actor, details, origin=None) -> None:
    # Imported here, like the other apps' recorders, so that this module loads before the audit
    # app is ready (the engine is imported by the Celery tasks at start-up).
    from apps.audit.services import audit_record_admin

    audit_record_admin(
        action=action,
        actor=actor,
        department=dataset.provider,
        dataset=dataset,
        target=target,
        details=details,
        origin=origin,
    )


def record_run_requested(*, run: SyncRun, by, origin: RequestOrigin | None = None) -> None:
    """An officer asked for `run` ("sync now" or a file upload); `origin` is the admin request
    it came through."""
    _record(action=REQUEST, run=run, actor=by, details=run_source_details(run), origin=origin)


def record_run_published(*, run: SyncRun) -> None:
    """`run` published: call inside the publishing transaction, as its last statement (the
    event locks the chain's head until the commit; apps.audit.chain). Like the failure's, the
    event names the officer and the request the run was asked for through, if any."""
    details = {**run_source_details(run), **_counts(run)}
    if run.watermark_column:
        details.update(
            watermark_column=run.watermark_column,
            watermark_before=run.since,
            watermark_after=run.watermark_after,
        )
    _record(
        action=PUBLISH, run=run, actor=run.requested_by, details=details, origin=run_origin(run)
    )


def record_run_failed(*, run: SyncRun) -> None:
    """`run` ended failed (for good: after its retries); nothing of it was published. The error
    is recorded in the platform's language without what it quotes of the source (auditors read
    the log, and may not read the quarantine: apps.sync.errors)."""
    text = stored_error_text(run.error_text)
    details = {
        **run_source_details(run),
        "rows_read": run.rows_read,
        "rows_rejected": run.rows_rejected,
        "attempts": run.attempts,
        "error": run.error if text is None else in_platform_language(withhold_source_text(text)),
    }
    _record(action=FAIL, run=run, actor=run.requested_by, details=details, origin=run_origin(run))


def record_run_cancelled(
    *, run: SyncRun, by, waited_as: str, origin: RequestOrigin | None = None
) -> None:
    """An officer cancelled `run` while it was `waited_as` (queued or waiting to retry)."""
    details = {**run_source_details(run), "status_before": waited_as, "attempts": run.attempts}
    _record(action=CANCEL, run=run, actor=by, details=details, origin=origin)


def record_uploads_deleted(*, dataset, files: list[dict[str, Any]], retention_days: int) -> None:
    """Uploaded files of `dataset` deleted at the end of their retention: for each, the name it
    was stored under, and when runs read it, their ids and the file's name and SHA-256."""
    _record_about(
        action=UPLOADS_DELETE,
        dataset=dataset,
        target=f"sync_uploads:{dataset.pk}",
        actor=None,
        details={"retention_days": retention_days, "files": files},
    )
