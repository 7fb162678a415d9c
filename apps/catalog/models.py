"""The sharing responsibility list (共享责任清单): datasets, their fields, versions and demands."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from govdata.masking import MASKING_RULES
from govdata.vocabulary import (
    SHARING_TYPES_NEEDING_LEGAL_BASIS,
    DataType,
    Sensitivity,
    SharingType,
    UpdateFrequency,
    dataset_type_admits_field_type,
)

identifier_validator = RegexValidator(
    r"^[a-z][a-z0-9_]{0,62}$",
    _("Use lower-case letters, digits and underscores, starting with a letter (at most 63)."),
)
catalog_code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
    _("Use letters, digits, '.', '_' and '-' (at most 64)."),
)


class SharingTypeChoices(models.TextChoices):
    UNCONDITIONAL = SharingType.UNCONDITIONAL, _("Unconditional (无条件共享)")
    CONDITIONAL = SharingType.CONDITIONAL, _("Conditional (有条件共享)")
    NONE = SharingType.NONE, _("Not shared (不予共享)")


class DataTypeChoices(models.TextChoices):
    STRING = DataType.STRING, _("Text")
    INTEGER = DataType.INTEGER, _("Integer")
    DECIMAL = DataType.DECIMAL, _("Decimal")
    BOOLEAN = DataType.BOOLEAN, _("Yes/no")
    DATE = DataType.DATE, _("Date")
    DATETIME = DataType.DATETIME, _("Date and time")
    ID_CARD = DataType.ID_CARD, _("Resident ID number")
    CREDIT_CODE = DataType.CREDIT_CODE, _("Unified social credit code")
    MOBILE = DataType.MOBILE, _("Mobile number")
    ENUM = DataType.ENUM, _("Enumeration")


class SensitivityChoices(models.TextChoices):
    PUBLIC = Sensitivity.PUBLIC, _("Public")
    INTERNAL = Sensitivity.INTERNAL, _("Internal")
    SENSITIVE = Sensitivity.SENSITIVE, _("Sensitive")
    HIGHLY_SENSITIVE = Sensitivity.HIGHLY_SENSITIVE, _("Highly sensitive")


class UpdateFrequencyChoices(models.TextChoices):
    REALTIME = UpdateFrequency.REALTIME, _("Real-time")
    HOURLY = UpdateFrequency.HOURLY, _("Hourly")
    DAILY = UpdateFrequency.DAILY, _("Daily")
    WEEKLY = UpdateFrequency.WEEKLY, _("Weekly")
    MONTHLY = UpdateFrequency.MONTHLY, _("Monthly")
    QUARTERLY = UpdateFrequency.QUARTERLY, _("Quarterly")
    YEARLY = UpdateFrequency.YEARLY, _("Yearly")
    ON_DEMAND = UpdateFrequency.ON_DEMAND, _("On demand")


MASKING_LABELS = {
    "none": _("No masking"),
    "id_card": _("ID card number (first 6 and last 4 digits kept)"),
    "mobile": _("Mobile number (first 3 and last 4 digits kept)"),
    "name": _("Name (surname kept)"),
    "address": _("Address (down to the district)"),
    "bank_card": _("Bank card number (first 4 and last 4 digits kept)"),
    "hash": _("Keyed hash per consumer (comparable, not readable)"),
    "year_only": _("Date (year only)"),
    "redact": _("Hidden entirely"),
}
MaskingChoices = models.TextChoices(
    "MaskingChoices",
    [(rule.upper(), (rule, MASKING_LABELS.get(rule, rule))) for rule in MASKING_RULES],
)

# Sorted: a frozenset's order changes with the hash seed, which made makemigrations flip-flop.
_LEGAL_BASIS_TYPES = sorted((str(t) for t in SHARING_TYPES_NEEDING_LEGAL_BASIS), reverse=True)


def _legal_basis_constraint(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=~Q(sharing_type__in=_LEGAL_BASIS_TYPES) | ~Q(legal_basis=""),
        name=name,
        violation_error_message=_("A legal basis is required for conditional and not-shared data."),
    )


class Dataset(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    code = models.CharField(
        _("catalogue code"), max_length=64, unique=True, validators=[catalog_code_validator]
    )
    name = models.CharField(_("name"), max_length=200)
    provider = models.ForeignKey(
        "departments.Department",
        verbose_name=_("providing department"),
        on_delete=models.PROTECT,
        related_name="datasets",
    )
    summary = models.TextField(_("summary"), blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    key_field = models.CharField(_("key field"), max_length=63, validators=[identifier_validator])
    update_frequency = models.CharField(
        _("update frequency"),
        max_length=16,
        choices=UpdateFrequencyChoices.choices,
        default=UpdateFrequency.DAILY,
    )
    sharing_type = models.CharField(
        _("sharing type"), max_length=16, choices=SharingTypeChoices.choices
    )
    conditions = models.TextField(_("sharing conditions"), blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    version = models.PositiveIntegerField(_("published version"), default=0)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    has_unpublished_changes = models.BooleanField(_("unpublished changes"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")
        constraints = [_legal_basis_constraint("dataset_legal_basis_required")]
        permissions = [("publish_dataset", _("Can publish the dataset"))]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        if self.sharing_type in _LEGAL_BASIS_TYPES and not self.legal_basis.strip():
            raise ValidationError(
                {"legal_basis": _("A legal basis is required for conditional and not-shared data.")}
            )
        # A form that changes the dataset and its fields together sets this and checks the
        # new fields itself (the stored ones are about to change); services check after saving.
        if self.pk and not getattr(self, "defer_fields_check", False):
            self.clean_fields_agreement()

    def clean_fields_agreement(self) -> None:
        """The stored fields agree with the dataset's sharing type and hold the key field."""
        fields = [f for f in self.fields.all() if not f.pending_removal]
        bad = [
            f.name
            for f in fields
            if not dataset_type_admits_field_type(self.sharing_type, f.sharing_type)
        ]
        if bad:
            raise ValidationError(
                {
                    "sharing_type": _(
                        "The fields %(fields)s do not agree with the dataset's sharing type."
                    )
                    % {"fields": ", ".join(bad)}
                }
            )
        if fields and self.key_field not in {f.name for f in fields}:
            raise ValidationError(
                {
                    "key_field": _("The key field “%(name)s” is not among the dataset's fields.")
                    % {"name": self.key_field}
                }
            )


class Field(models.Model):
    dataset = models.ForeignKey(
        Dataset, verbose_name=_("dataset"), on_delete=models.CASCADE, related_name="fields"
    )
    # The same two words on every page and in the list file (信息项名称, 信息项中文名): a bare
    # "name" read as the code here and as the Chinese label on the published list's page.
    name = models.CharField(_("field name"), max_length=63, validators=[identifier_validator])
    label = models.CharField(_("field label"), max_length=200)
    data_type = models.CharField(_("data type"), max_length=16, choices=DataTypeChoices.choices)
    sensitivity = models.CharField(
        _("sensitivity"),
        max_length=20,
        choices=SensitivityChoices.choices,
        default=Sensitivity.INTERNAL,
    )
    sharing_type = models.CharField(
        _("sharing type"), max_length=16, choices=SharingTypeChoices.choices
    )
    conditions = models.TextField(_("sharing conditions"), blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    masking = models.CharField(
        _("masking rule"), max_length=16, choices=MaskingChoices.choices, default="none"
    )
    required = models.BooleanField(_("required"), default=False)
    enum_values = models.JSONField(_("allowed values"), default=list, blank=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    # A published field is removed at the next publication, so that its grants are ended with
    # the reason given there; until then it stays as published.
    pending_removal = models.BooleanField(_("removed at next publication"), default=False)
    # What consumers are held to: copied from the working attributes above only by
    # dataset_publish, so that a draft edit (e.g. loosening `none` to `unconditional`) opens
    # nothing before it is published with its reason. NULL = never published: closed to others.
    published_sharing_type = models.CharField(
        _("published sharing type"),
        max_length=16,
        choices=SharingTypeChoices.choices,
        null=True,
        blank=True,
        editable=False,
    )
    published_masking = models.CharField(
        _("published masking rule"),
        max_length=16,
        choices=MaskingChoices.choices,
        null=True,
        blank=True,
        editable=False,
    )

    class Meta:
        ordering = ["dataset_id", "position", "id"]
        verbose_name = _("field")
        verbose_name_plural = _("fields")
        constraints = [
            models.UniqueConstraint(fields=["dataset", "name"], name="field_unique_name"),
            _legal_basis_constraint("field_legal_basis_required"),
            models.CheckConstraint(
                condition=Q(masking__in=list(MASKING_RULES)),
                name="field_masking_known",
                violation_error_message=_("Unknown masking rule."),
            ),
            models.CheckConstraint(
                condition=Q(published_sharing_type__isnull=True, published_masking__isnull=True)
                | Q(published_sharing_type__isnull=False, published_masking__isnull=False),
                name="field_published_attributes_together",
                violation_error_message=_(
                    "A field's published sharing type and masking rule are set together."
                ),
            ),
        ]
        permissions = [("read_field", _("Can read the field's values"))]

    def __str__(self) -> str:
        return f"{self.dataset.code}.{self.name}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.masking not in MASKING_RULES:
            errors["masking"] = _("Unknown masking rule “%(rule)s”.") % {"rule": self.masking}
        if self.sharing_type in _LEGAL_BASIS_TYPES and not self.legal_basis.strip():
            errors["legal_basis"] = _(
                "A legal basis is required for conditional and not-shared data."
            )
        if self.dataset_id and not dataset_type_admits_field_type(
            self.dataset.sharing_type, self.sharing_type
        ):
            errors["sharing_type"] = _(
                "A %(dataset_type)s dataset cannot have a %(field_type)s field."
            ) % {"dataset_type": self.dataset.sharing_type, "field_type": self.sharing_type}
        if self.data_type == DataType.ENUM and not self.enum_values:
            errors["enum_values"] = _("An enumeration needs its allowed values.")
        if errors:
            raise ValidationError(errors)


class DatasetVersion(models.Model):
    """A published version of one dataset's entry, kept readable after later changes."""

    dataset = models.ForeignKey(
        Dataset, verbose_name=_("dataset"), on_delete=models.CASCADE, related_name="versions"
    )
    version = models.PositiveIntegerField(_("version"))
    snapshot = models.JSONField(_("snapshot"))
    changes = models.JSONField(_("changes from the previous version"), default=list)
    reason = models.TextField(_("reason"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        ordering = ["dataset_id", "-version"]
        verbose_name = _("published version")
        verbose_name_plural = _("published versions")
        constraints = [
            models.UniqueConstraint(fields=["dataset", "version"], name="dataset_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.dataset.code} v{self.version}"


class Demand(models.Model):
    """需求清单: what a department needs but cannot get yet; the provider answers."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    requester = models.ForeignKey(
        "departments.Department",
        verbose_name=_("requesting department"),
        on_delete=models.PROTECT,
        related_name="demands_made",
    )
    provider = models.ForeignKey(
        "departments.Department",
        verbose_name=_("asked department"),
        on_delete=models.PROTECT,
        related_name="demands_received",
    )
    dataset = models.ForeignKey(
        Dataset,
        verbose_name=_("related dataset"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="demands",
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    fields_wanted = models.TextField(_("fields wanted"), blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("demand")
        verbose_name_plural = _("demand list")

    def __str__(self) -> str:
        return self.title


# Direct foreign-key object permissions (fast joins, rows deleted with their object).
class DatasetUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Dataset, on_delete=models.CASCADE)


class DatasetGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Dataset, on_delete=models.CASCADE)


class FieldUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Field, on_delete=models.CASCADE)


class FieldGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Field, on_delete=models.CASCADE)


class DemandGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Demand, on_delete=models.CASCADE)
