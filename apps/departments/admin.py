"""Platform administrators register departments and their members; auditors may look."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from apps.audit.services import origin_of
from apps.catalog import permissions as perms
from apps.departments.admin_accounts import people
from apps.departments.admin_accounts import register as register_accounts
from apps.departments.models import Department, Membership, department_code_validator
from apps.departments.services import (
    department_code_change,
    department_code_check,
    department_create,
    membership_add,
    membership_remove,
)

# What a department's code is part of besides this page (apps.departments.services
# department_code_change): said before the code is changed, as none of it follows the change.
CODE_CHANGE_CONSEQUENCES = (
    _(
        "Values masked with the “hash” rule change for this department's applications: the "
        "masking key is derived from the code, so hashes received before the change no longer "
        "match those received after it. Tell the department's application owners if they keep "
        "hashes to link records."
    ),
    _(
        "Agency systems, scripts and bookmarks that name the department by its old code "
        "(the API's provider and consumer filters, audit searches) must use the new one: the "
        "old code is unknown afterwards."
    ),
    _(
        "Audit events already recorded keep the old code: the log is hash-chained and never "
        "rewritten. Searches by the new code still find them, and the change itself is "
        "recorded with both codes."
    ),
    _("The department's acting group is renamed with it; members and permissions stay."),
)


class ConfirmationField(forms.BooleanField):
    """A box ticked for one submission only: a page shown again (its errors, a reload) has it
    unticked, so that a code typed after a refused one is confirmed afresh."""

    widget = forms.CheckboxInput(attrs={"autocomplete": "off"})  # no browser-restored tick

    def bound_data(self, data, initial):
        return False


class DepartmentChangeForm(forms.ModelForm):
    """A stored department: its code may be corrected, once the platform admin has confirmed
    the consequences (CODE_CHANGE_CONSEQUENCES)."""

    confirm_code_change = ConfirmationField(
        label=_("I have read the consequences above and want to change the code"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _(
            "Upper-case letters and digits, parts joined by hyphens, e.g. GD-WJ or GZ-TH-MZ. "
            "Read the consequences above before changing it."
        )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        if "code" in self.changed_data:
            try:
                department_code_check(department=self.instance, code=code)
            except ValidationError as exc:
                raise ValidationError(exc.error_dict["code"]) from exc
        return code

    def clean(self):
        data = super().clean()
        if "code" in self.changed_data and "code" in data and not data.get("confirm_code_change"):
            raise ValidationError(
                {
                    "confirm_code_change": _(
                        "Changing the code has the consequences listed above: tick the box to "
                        "confirm."
                    )
                }
            )
        return data


class PlatformAdminOnly(admin.ModelAdmin):
    def has_module_permission(self, request) -> bool:
        return perms.is_platform_admin(request.user) or perms.is_catalog_auditor(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return perms.is_platform_admin(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return perms.is_platform_admin(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return perms.is_platform_admin(request.user)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("user", "role", "created_at")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # through the membership page, which keeps the acting group in step


@admin.register(Department)
class DepartmentAdmin(PlatformAdminOnly):
    list_display = ("code", "name", "level", "region", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name", "region")
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None and self.has_change_permission(request, obj):
            kwargs["form"] = DepartmentChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None or not self.has_change_permission(request, obj):
            return super().get_fieldsets(request, obj)
        return [
            (_("Department code"), {
                "fields": ["code", "confirm_code_change"],
                "description": self._code_warning(obj),
            }),
            (None, {"fields": ["name", "level", "region", "parent", "email", "group"]}),
        ]  # fmt: skip

    @staticmethod
    def _code_warning(obj: Department) -> str:
        items = format_html_join("", "<li>{}</li>", ((text,) for text in CODE_CHANGE_CONSEQUENCES))
        stale = ""
        try:
            department_code_validator(obj.code)
        except ValidationError:
            stale = format_html(
                '<p class="errornote">{}</p>',
                _(
                    "The code “%(code)s” was stored before the code rules and does not follow "
                    "them: correct it to save this page."
                )
                % {"code": obj.code},
            )
        return format_html(
            '{}<ul class="messagelist"><li class="warning">{}</li></ul><ul>{}</ul>',
            stale,
            _("Changing the code has consequences beyond this platform's tables:"),
            items,
        )

    def get_readonly_fields(self, request, obj=None):
        # The acting group follows the code (apps.departments.services.department_code_change).
        return ("group",) if obj is not None else ()

    def save_model(self, request, obj, form, change) -> None:
        if change:
            code, obj.code = obj.code, form.initial["code"]
            super().save_model(request, obj, form, change)  # the other attributes
            if code != obj.code:
                department_code_change(
                    department=obj, code=code, by=request.user, origin=origin_of(request)
                )
            return
        created = department_create(
            code=obj.code,
            name=obj.name,
            parent=obj.parent,
            level=obj.level,
            region=obj.region,
            email=obj.email,
        )
        obj.pk, obj.group_id, obj._state = created.pk, created.group_id, created._state

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # datasets, grants and audit records point at departments


@admin.register(Membership)
class MembershipAdmin(PlatformAdminOnly):
    list_display = ("user", "department", "role", "created_at")
    list_filter = ("role", "department")
    search_fields = ("user__username", "department__code", "department__name")
    autocomplete_fields = ("department",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "department")

    def get_readonly_fields(self, request, obj=None):
        return ("user", "department", "role") if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = people().order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        created = membership_add(
            user=obj.user, department=obj.department, role=obj.role, by=request.user
        )
        obj.pk, obj._state = created.pk, created._state

    def delete_model(self, request, obj) -> None:
        membership_remove(user=obj.user, department=obj.department, role=obj.role, by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for membership in queryset.select_related("user", "department"):
            self.delete_model(request, membership)


register_accounts(admin.site)
