"""Data-quality objections (数据异议): a consuming department reports a published record it
believes wrong, the providing department checks it and answers before a working-day deadline.
The objection's history is append-only, like that of data requests."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import MaskingChoices
from apps.common.models import StatusTransition

KEY_MAX_LENGTH = 255
DESCRIPTION_MAX_LENGTH = 2000
PROPOSED_VALUE_MAX_LENGTH = 1000
ANSWER_MAX_LENGTH = 2000


class Objection(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Outcome(models.TextChoices):
        CORRECTED = "corrected", _("Corrected")
        CONFIRMED = "confirmed", _("Confirmed as correct")

    dataset = models.ForeignKey(
        "catalog.Dataset",
        verbose_name=_("dataset"),
        on_delete=models.PROTECT,
        related_name="objections",
    )
    record_key = models.CharField(_("record key"), max_length=KEY_MAX_LENGTH)
    fields = models.ManyToManyField(
        "catalog.Field",
        verbose_name=_("fields concerned"),
        through="ObjectionField",
        related_name="objections",
    )
    description = models.CharField(_("description"), max_length=DESCRIPTION_MAX_LENGTH)
    proposed_value = models.CharField(
        _("value believed correct"), max_length=PROPOSED_VALUE_MAX_LENGTH, blank=True
    )
    consumer = models.ForeignKey(
        "departments.Department",
        verbose_name=_("reporting department"),
        on_delete=models.PROTECT,
        related_name="objections_made",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The OAuth2 application's id when an agency system reported through the API (a plain
    # integer, as on data requests: no dependency on the swappable application model).
    created_by_application_id = models.PositiveBigIntegerField(
        _("reported by application"), null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    answer = models.CharField(_("answer"), max_length=ANSWER_MAX_LENGTH, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_by_application_id = models.PositiveBigIntegerField(
        _("answered by application"), null=True, blank=True
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    due_by = models.DateField(_("answer due by"))
    overdue = models.BooleanField(_("overdue"), default=False)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("reported at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        ordering = ["due_by", "id"]
        verbose_name = _("data-quality objection")
        verbose_name_plural = _("data-quality objections")
        indexes = [models.Index(fields=["status", "due_by"], name="objection_status_due")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(description=""),
                name="objection_description_required",
                violation_error_message=_("An objection must describe what is wrong."),
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="answered", answered_at__isnull=False) & ~Q(outcome="") & ~Q(answer="")
                )
                | (~Q(status="answered") & Q(outcome="")),
                name="objection_answer_complete",
                violation_error_message=_("An answer needs its outcome and text."),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.consumer.code} → {self.dataset.code} {self.record_key}"

    @property
    def provider_id(self) -> int:
        return self.dataset.provider_id


class ObjectionField(models.Model):
    """One field the objection is about, with the masking rule under which the reporting
    department read it when reporting (what its audit events name). A field removed from the
    list at a later publication leaves the row (`field` becomes NULL) with the name and label
    it had: what the objection was about stays on record."""

    objection = models.ForeignKey(Objection, on_delete=models.CASCADE, related_name="items")
    field = models.ForeignKey(
        "catalog.Field", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    field_name = models.CharField(_("field"), max_length=63)
    field_label = models.CharField(_("label"), max_length=200)
    mask = models.CharField(_("masking seen"), max_length=16, choices=MaskingChoices.choices)

    class Meta:
        verbose_name = _("field concerned")
        verbose_name_plural = _("fields concerned")
        constraints = [
            models.UniqueConstraint(fields=["objection", "field"], name="objection_field_unique"),
            models.CheckConstraint(
                condition=~Q(field_name=""),
                name="objection_field_name_kept",
                violation_error_message=_("A row naming a field keeps the field's name."),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.objection_id} {self.field_name}"


class ObjectionTransition(StatusTransition):
    """An objection's history. Append-only."""

    objection = models.ForeignKey(Objection, on_delete=models.PROTECT, related_name="transitions")

    class Meta:
        ordering = ["objection_id", "at", "id"]
        verbose_name = _("objection history entry")
        verbose_name_plural = _("objection history")
        triggers = [
            pgtrigger.Protect(
                name="objection_transition_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            )
        ]

    def __str__(self) -> str:
        return f"#{self.objection_id} {self.from_status or '∅'} → {self.to_status}"
