from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

PLATFORM_AUDITORS_GROUP = "platform-auditors"

# Codes travel in URLs and API filters (`?provider=GZ-TH-MZ`), group names (`dept:<code>`) and
# usernames (`officer-<code>`): no spaces, one case, parts joined by hyphens.
department_code_validator = RegexValidator(
    r"^[A-Z0-9]+(-[A-Z0-9]+)*\Z",
    _("Use upper-case letters and digits, in parts joined by hyphens (e.g. GD-WJ, GZ-TH-MZ)."),
    code="invalid_code",
)
DUPLICATE_CODE_MESSAGE = _(
    "A department with the code %(code)s already exists (codes are compared ignoring case)."
)


def department_code_clash(code: str, *, exclude_pk: int | None = None) -> ValidationError | None:
    """The error saying another department has `code`, ignoring case, or None."""
    clash = Department.objects.filter(code__iexact=code).exclude(pk=exclude_pk).first()
    if clash is None:
        return None
    return ValidationError(DUPLICATE_CODE_MESSAGE, code="unique", params={"code": clash.code})


class Department(models.Model):
    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        DISTRICT = "district", _("District")

    code = models.CharField(
        _("code"),
        max_length=32,
        unique=True,
        validators=[department_code_validator],
        help_text=_(
            "Upper-case letters and digits, parts joined by hyphens, e.g. GD-WJ or GZ-TH-MZ. "
            "It cannot be changed later."
        ),
    )
    name = models.CharField(_("name"), max_length=128)
    level = models.CharField(
        _("level"), max_length=16, choices=Level.choices, default=Level.PROVINCE
    )
    region = models.CharField(
        _("region"),
        max_length=128,
        blank=True,
        help_text=_("Administrative region, e.g. 广东省广州市天河区"),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    group = models.OneToOneField(
        Group,
        verbose_name=_("acting group"),
        on_delete=models.PROTECT,
        related_name="department",
        editable=False,
    )
    email = models.EmailField(_("contact e-mail"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            # `unique=True` above compares exactly; `ex4ui-A` next to `EX4UI-A` would be two
            # departments that every case-insensitive search (API filters, the audit console)
            # confuses.
            models.UniqueConstraint(
                Upper("code"),
                name="department_code_unique_ignoring_case",
                violation_error_message=_(
                    "A department with this code already exists (codes are compared ignoring case)."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    # Higher is wider: a parent department is at its child's level or above.
    LEVEL_RANKS = {Level.PROVINCE: 3, Level.CITY: 2, Level.DISTRICT: 1}

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk and self.pk is not None:
                raise ValidationError({"parent": _("A department cannot be its own ancestor.")})
            ancestor = ancestor.parent
        # Said on the code field, not as the constraint's form-wide message.
        if self.code and self._state.adding:
            clash = department_code_clash(self.code)
            if clash is not None:
                errors["code"] = clash
        rank = self.LEVEL_RANKS.get(self.level)
        parent = self.parent
        if parent is not None and rank is not None and self.LEVEL_RANKS.get(parent.level, 0) < rank:
            errors["parent"] = ValidationError(
                _(
                    "%(parent)s is at the level “%(parent_level)s”; a department at the level "
                    "“%(level)s” cannot be under it (province > city > district)."
                ),
                params={
                    "parent": parent,
                    "parent_level": parent.get_level_display(),
                    "level": self.get_level_display(),
                },
            )
        if self.pk is not None and rank is not None:
            wider = [
                child
                for child in self.children.all()
                if self.LEVEL_RANKS.get(child.level, 0) > rank
            ]
            if wider:
                errors["level"] = ValidationError(
                    _(
                        "Its sub-departments %(children)s are above the level “%(level)s” "
                        "(province > city > district)."
                    ),
                    params={
                        "children": ", ".join(c.code for c in wider),
                        "level": self.get_level_display(),
                    },
                )
        if errors:
            raise ValidationError(errors)


class Membership(models.Model):
    class Role(models.TextChoices):
        OFFICER = "officer", _("Data officer")
        AUDITOR = "auditor", _("Auditor")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "department", "role"], name="membership_unique_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.department.code} ({self.get_role_display()})"
