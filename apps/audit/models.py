"""The audit log: one append-only, hash-chained, month-partitioned table of events (record reads
and administrative decisions), signed checkpoints over its head, archives and anomaly alerts."""

from __future__ import annotations

import orjson
import pgtrigger
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


def _no_truncate(name: str) -> pgtrigger.Trigger:
    # pgtrigger.Protect has no statement-level TRUNCATE variant, so spell the trigger out.
    return pgtrigger.Trigger(
        name=name,
        operation=pgtrigger.Truncate,
        level=pgtrigger.Statement,
        when=pgtrigger.Before,
        func="RAISE EXCEPTION 'audit log is append-only: cannot truncate %', TG_TABLE_NAME;",
    )


# What every event's body holds (govdata/auditchain.py hashes the body as stored).
BODY_KEYS = frozenset(
    (
        "kind",
        "action",
        "request_id",
        "user_id",
        "username",
        "application_id",
        "application_name",
        "consumer_id",
        "consumer_code",
        "provider_id",
        "provider_code",
        "dataset_id",
        "dataset_code",
        "fields",
        "row_count",
        "filters",
        "purpose",
        "case_id",
        "end_user",
        "grant_ids",
        "outcome",
        "reason",
        "client_ip",
        "duration_ms",
        "target",
        "details",
    )  # fmt: skip
)


class AuditEvent(models.Model):
    """One row of `audit_event`, a table partitioned by month on `occurred_at` (created by SQL in
    the migration). Everything recorded is in `body`, JSON text stored exactly as hashed; the
    columns used to search are generated from it by PostgreSQL, so they can never disagree
    with what the hash covers. A
    BEFORE INSERT trigger assigns `seq`, `prev_hash` and `hash` under the chain-head row lock.
    Identifiers are plain integers, not foreign keys: deleting a user or a department must
    never cascade into, or be blocked by, the log."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Data access")
        ADMIN = "admin", _("Administrative decision")

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("Allowed")
        DENIED = "denied", _("Denied")

    seq = models.BigIntegerField(_("sequence"), primary_key=True)
    occurred_at = models.DateTimeField(_("time"))
    body = models.TextField(_("event"))  # JSON text, hashed byte for byte
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)
    # Generated (STORED) from body; never written by Django.
    kind = models.TextField(_("kind"), choices=Kind.choices, editable=False)
    action = models.TextField(_("action"), editable=False)
    user_id = models.BigIntegerField(_("user id"), null=True, editable=False)
    consumer_id = models.BigIntegerField(_("consumer department id"), null=True, editable=False)
    provider_id = models.BigIntegerField(_("provider department id"), null=True, editable=False)
    dataset_id = models.BigIntegerField(_("dataset id"), null=True, editable=False)
    outcome = models.TextField(_("outcome"), choices=Outcome.choices, null=True, editable=False)
    end_user = models.TextField(_("end user"), null=True, editable=False)

    class Meta:
        db_table = "audit_event"
        ordering = ["-seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        default_permissions = ("view",)
        # Every auditor search is "<one column> within a time range, newest first"; partition
        # pruning narrows the months and these indexes the rows within them. The field and
        # purpose searches use two GIN indexes on expressions of `body`, built partition by
        # partition without blocking inserts (migration 0006; Django's AddIndex cannot).
        indexes = [
            models.Index(fields=["occurred_at", "seq"], name="audit_ev_time"),
            models.Index(fields=["consumer_id", "occurred_at", "seq"], name="audit_ev_consumer"),
            models.Index(fields=["provider_id", "occurred_at", "seq"], name="audit_ev_provider"),
            models.Index(fields=["dataset_id", "occurred_at", "seq"], name="audit_ev_dataset"),
            models.Index(fields=["outcome", "occurred_at", "seq"], name="audit_ev_outcome"),
            models.Index(fields=["end_user", "occurred_at"], name="audit_ev_end_user"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="audit_event_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
            _no_truncate("audit_event_no_truncate"),
        ]

    def __getattr__(self, name: str):
        # The other recorded attributes (purpose, fields, filters, grant_ids, ...) read from body.
        if name in BODY_KEYS and "body" in self.__dict__:
            return self.data.get(name)
        raise AttributeError(name)

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.dataset_code or self.target}"

    @cached_property
    def data(self) -> dict:
        return orjson.loads(self.body) if self.body else {}


# The contract names both; they are the same append-only table, told apart by `kind`.
AccessEvent = AuditEvent
AdminEvent = AuditEvent


class ChainHead(models.Model):
    """The single row holding the last sequence number and hash; inserting transactions lock it
    so that the chain has one total order even with concurrent writers."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    # The latest time chained: no event is chained before the start of its month (migration
    # 0004), so each month's events are one run of the chain.
    occurred_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "audit_chain_head"
        default_permissions = ()
        triggers = [
            pgtrigger.Protect(name="audit_head_no_delete", operation=pgtrigger.Delete),
            _no_truncate("audit_head_no_truncate"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class WalFlush(models.Model):
    """No longer written: apps.audit.chain now makes an event durable with a logical message
    (no row). Until the release after the one that stopped writing it, servers still running
    the previous code upsert here during a rolling upgrade, so the table stays until then."""

    slot = models.SmallIntegerField(primary_key=True)
    flushed_at = models.DateTimeField()

    class Meta:
        db_table = "audit_wal_flush"
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.slot} {self.flushed_at:%Y-%m-%d %H:%M:%S}"


class Checkpoint(models.Model):
    seq = models.BigIntegerField(_("sequence"), db_index=True)
    head_hash = models.CharField(_("head hash"), max_length=64)
    signed_at = models.DateTimeField(_("signed at"))
    signature = models.CharField(_("signature (hex)"), max_length=128)
    key_id = models.CharField(_("key id"), max_length=64)

    class Meta:
        db_table = "audit_checkpoint"
        ordering = ["-seq", "-id"]
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        default_permissions = ("view",)
        triggers = [
            pgtrigger.Protect(
                name="audit_checkpoint_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
            _no_truncate("audit_checkpoint_no_truncate"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.head_hash[:12]}"


class Archive(models.Model):
    """A month moved out of the database into a signed NDJSON file. Verification of what remains
    starts from `last_seq` + 1 with `last_hash` as the previous hash."""

    partition = models.CharField(_("partition"), max_length=63, unique=True)
    first_seq = models.BigIntegerField(_("first sequence"), null=True)
    last_seq = models.BigIntegerField(_("last sequence"), null=True)
    last_hash = models.CharField(_("last hash"), max_length=64, blank=True)
    path = models.CharField(_("file"), max_length=500)
    sha256 = models.CharField(_("file SHA-256"), max_length=64)
    signature = models.CharField(_("signature (hex)"), max_length=128)
    archived_at = models.DateTimeField(_("archived at"))

    class Meta:
        db_table = "audit_archive"
        ordering = ["-last_seq"]
        verbose_name = _("archive")
        verbose_name_plural = _("archives")
        default_permissions = ("view",)
        triggers = [
            pgtrigger.Protect(
                name="audit_archive_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return self.partition


class Alert(models.Model):
    class Kind(models.TextChoices):
        VOLUME = "volume", _("Reads far above the department's baseline")
        SENSITIVE_EXPORT = "sensitive_export", _("Bulk export of sensitive fields")
        OFF_HOURS = "off_hours", _("Reads outside working hours")
        DENIAL_BURST = "denial_burst", _("Burst of denied requests (probing)")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    department = models.ForeignKey(
        "departments.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="audit_alerts",
        null=True,
    )
    provider = models.ForeignKey(
        "departments.Department",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
    )
    # Every provider whose data the alert is about (a burst or a surge can touch several);
    # their auditors see it and are mailed. `provider` is kept for alerts raised before.
    provider_ids = ArrayField(
        models.BigIntegerField(), verbose_name=_("providers"), default=list, blank=True
    )
    # In the platform's language when raised; `message` keeps it as a message id and its
    # parameters (apps.common.texts.Text), shown in each reader's language. Alerts raised
    # before have only `summary`.
    summary = models.CharField(_("summary"), max_length=500)
    message = models.JSONField(_("summary as written"), default=dict, blank=True)
    details = models.JSONField(_("details"), default=dict)
    window_start = models.DateTimeField(_("window start"))
    window_end = models.DateTimeField(_("window end"))
    # Makes each detector idempotent: running it twice over one window raises one alert.
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(_("raised at"))
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        db_table = "audit_alert"
        ordering = ["-created_at"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [models.Index(fields=["-created_at"], name="audit_alert_created")]

    def __str__(self) -> str:
        return self.summary_text

    @property
    def summary_text(self) -> str:
        """The summary in the reader's (active) language."""
        from apps.common.texts import Text

        stored = self.message.get("summary") if isinstance(self.message, dict) else None
        return str(Text.from_json(stored)) if stored else self.summary

    @property
    def department_ids(self) -> list[int]:
        """The departments concerned: the consumer, then the providers."""
        ids = [self.department_id, self.provider_id, *self.provider_ids]
        return list(dict.fromkeys(i for i in ids if i))
