"""Data requests (共享申请), their append-only history, grants (授权), the holiday calendar,
in-admin notifications, and the published list as requesting departments browse it."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Dataset, MaskingChoices
from apps.common.models import StatusTransition
from apps.common.texts import Text


def text_shown(text: str, message: list | None) -> str:
    """A reason the platform wrote (`message`: apps.common.texts.Text as JSON) in the reader's
    language; `text` (as typed by a person, or written before reasons were kept as Text) as
    stored."""
    return str(Text.from_json(message)) if message else text


def _field_snapshot_required(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=~Q(field_name=""),
        name=name,
        violation_error_message=_("A row naming a field keeps the field's name."),
    )


class DataRequest(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    consumer = models.ForeignKey(
        "departments.Department",
        verbose_name=_("requesting department"),
        on_delete=models.PROTECT,
        related_name="requests_made",
    )
    dataset = models.ForeignKey(
        "catalog.Dataset",
        verbose_name=_("dataset"),
        on_delete=models.PROTECT,
        related_name="requests",
    )
    fields = models.ManyToManyField(
        "catalog.Field",
        verbose_name=_("requested fields"),
        through="DataRequestField",
        related_name="requests",
    )
    purpose = models.TextField(_("purpose"))
    legal_basis = models.TextField(_("legal basis"))
    valid_until = models.DateField(_("requested until"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    due_by = models.DateField(_("answer due by"))
    overdue = models.BooleanField(_("overdue"), default=False)
    reminded_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision_reason = models.TextField(_("reason of the decision"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The OAuth2 application's id when an agency system submitted through the API; a plain
    # integer so that this app does not depend on the swappable application model's migrations.
    created_by_application_id = models.PositiveBigIntegerField(
        _("submitted by application"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("submitted at"))

    class Meta:
        ordering = ["due_by", "id"]
        verbose_name = _("data request")
        verbose_name_plural = _("data requests")
        indexes = [models.Index(fields=["status", "due_by"], name="request_status_due")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.consumer.code} → {self.dataset.code}"

    @property
    def admin_path(self) -> str:
        """Where officers review the request: the link of its notifications."""
        return reverse("admin:sharing_datarequest_change", args=[self.pk])

    @property
    def provider_id(self) -> int:
        return self.dataset.provider_id


class DataRequestField(models.Model):
    """One field a request named. A field removed from the list at a later publication leaves
    the row (`field` becomes NULL) with the name and label it had: what was asked for stays on
    record."""

    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="items")
    field = models.ForeignKey(
        "catalog.Field", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    field_name = models.CharField(_("field"), max_length=63)
    field_label = models.CharField(_("label"), max_length=200)

    class Meta:
        verbose_name = _("requested field")
        verbose_name_plural = _("requested fields")
        constraints = [
            models.UniqueConstraint(fields=["request", "field"], name="request_field_unique"),
            _field_snapshot_required("request_field_name_kept"),
        ]

    def __str__(self) -> str:
        return f"#{self.request_id} {self.field_name}"


class RequestTransition(StatusTransition):
    """A request's (or its grant's) history. Append-only."""

    request = models.ForeignKey(DataRequest, on_delete=models.PROTECT, related_name="transitions")
    # A reason the platform wrote (an approval's summary, a grant ended or narrowed) as
    # apps.common.texts.Text JSON, shown in the reader's language; `reason` holds it in the
    # platform's language, or the words a person typed (a rejection, a revocation).
    reason_message = models.JSONField(_("reason as written"), null=True, blank=True)

    class Meta:
        ordering = ["request_id", "at", "id"]
        verbose_name = _("request history entry")
        verbose_name_plural = _("request history")
        triggers = [
            pgtrigger.Protect(
                name="request_transition_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"#{self.request_id} {self.from_status or '∅'} → {self.to_status}"

    @property
    def reason_text(self) -> str:
        return text_shown(self.reason, self.reason_message)


class Grant(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    request = models.OneToOneField(
        DataRequest, verbose_name=_("request"), on_delete=models.PROTECT, related_name="grant"
    )
    consumer = models.ForeignKey(
        "departments.Department",
        verbose_name=_("consuming department"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    dataset = models.ForeignKey(
        "catalog.Dataset",
        verbose_name=_("dataset"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(
        _("valid until"), help_text=_("The grant ends at this instant (exclusive).")
    )
    row_filter = models.JSONField(_("row filter"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_reason = models.TextField(_("reason of the revocation"), blank=True)
    # A reason the platform wrote (a field withdrawn, a row filter no longer trusted) as
    # apps.common.texts.Text JSON, shown in the reader's language; `revoked_reason` holds it in
    # the platform's language (API, audit, search) or as the revoking officer typed it.
    revoked_reason_message = models.JSONField(_("reason as written"), null=True, blank=True)
    created_at = models.DateTimeField(_("granted at"))

    class Meta:
        ordering = ["dataset_id", "consumer_id", "-valid_until"]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        indexes = [
            models.Index(
                fields=["dataset", "consumer", "valid_until"],
                condition=Q(status="active"),
                name="grant_active_lookup",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("valid_from")),
                name="grant_valid_range",
                violation_error_message=_("A grant must end after it starts."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.consumer.code} ← {self.dataset.code} ({self.get_status_display()})"

    @property
    def admin_path(self) -> str:
        """Where officers see the grant: the link of its notifications."""
        return reverse("admin:sharing_grant_change", args=[self.pk])

    @property
    def revoked_reason_text(self) -> str:
        return text_shown(self.revoked_reason, self.revoked_reason_message)


class GrantField(models.Model):
    """One field a grant gives. Like DataRequestField, it outlives the field's removal from the
    list with the name, label and masking rule the holder read it under (`field_masking`: the
    published rule when granted, updated when the field is taken away from the grant)."""

    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="items")
    field = models.ForeignKey(
        "catalog.Field", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    field_name = models.CharField(_("field"), max_length=63)
    field_label = models.CharField(_("label"), max_length=200)
    field_masking = models.CharField(
        _("masking rule granted"), max_length=16, choices=MaskingChoices.choices
    )
    mask_override = models.CharField(
        _("stricter mask"),
        max_length=16,
        choices=MaskingChoices.choices,
        blank=True,
        help_text=_("A stricter masking rule the provider imposes on this grant."),
    )
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    removed_reason = models.TextField(_("reason of the removal"), blank=True)
    # As Grant.revoked_reason_message: the platform's reason, rendered for each reader.
    removed_reason_message = models.JSONField(_("reason as written"), null=True, blank=True)

    class Meta:
        verbose_name = _("granted field")
        verbose_name_plural = _("granted fields")
        constraints = [
            models.UniqueConstraint(fields=["grant", "field"], name="grant_field_unique"),
            _field_snapshot_required("grant_field_name_kept"),
        ]

    def __str__(self) -> str:
        return f"grant {self.grant_id} field {self.field_name}"

    @property
    def removed_reason_text(self) -> str:
        return text_shown(self.removed_reason, self.removed_reason_message)


class Holiday(models.Model):
    """One entry of the public-holiday calendar: a weekday off, or a weekend day worked (调休)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday (day off)")
        WORKDAY = "workday", _("Make-up working day (调休)")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("holiday calendar")

    def __str__(self) -> str:
        return f"{self.date} {self.name} ({self.get_kind_display()})"


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("sent at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # The subject and body untranslated (apps.common.texts.Text as JSON), shown in the reader's
    # language; `subject` and `body` hold them in the platform's language (e-mail, search).
    message = models.JSONField(_("message as written"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.subject_text

    def _text(self, part: str) -> str:
        from apps.common.texts import Text

        stored = self.message.get(part)
        return str(Text.from_json(stored)) if stored else getattr(self, part)

    @property
    def subject_text(self) -> str:
        return self._text("subject")

    @property
    def body_text(self) -> str:
        return self._text("body")


class PublishedDataset(Dataset):
    """The responsibility list as every department browses it in the admin, to see what it
    may read and to request what it may not yet (a proxy of the catalogue: no table)."""

    class Meta:
        proxy = True
        verbose_name = _("published dataset")
        verbose_name_plural = _("responsibility list (all departments)")
