"""Officers register, rotate, disable and enable their department's applications; the secret is
shown once."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.api.models import AgencyApplication
from apps.api.services import (
    application_create,
    application_rotate_secret,
    application_set_active,
)
from apps.departments.models import Department
from apps.departments.selectors import user_department_ids


class AgencyApplicationForm(forms.ModelForm):
    """Registration: the client's name and scopes belong to the OAuth2 client, not this model."""

    name = forms.CharField(label=_("name"), max_length=255)
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=AgencyApplication.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=["read"],
    )

    class Meta:
        model = AgencyApplication
        fields = ["department"]


class AgencyApplicationChangeForm(forms.ModelForm):
    """An existing application: only `active` can change (name and scopes are fixed once
    registered). A form of its own, because a ModelForm always keeps its declared fields: the
    registration form's required name and scopes, never rendered here, failed every save."""

    class Meta:
        model = AgencyApplication
        fields = ["is_active"]
        help_texts = {
            "is_active": _(
                "A disabled application gets no tokens, and its live tokens are revoked at once."
            )
        }


@admin.register(AgencyApplication)
class AgencyApplicationAdmin(admin.ModelAdmin):
    form = AgencyApplicationForm
    list_display = ["__str__", "department", "scopes_shown", "is_active", "secret_rotated_at"]
    # Only the departments whose applications the viewer can see.
    list_filter = [("department", admin.RelatedOnlyFieldListFilter), "is_active"]
    readonly_fields = [
        "client_id",
        "scopes_shown",
        "created_by",
        "created_at",
        "secret_rotated_at",
    ]
    actions = ["rotate_secret", "disable_selected"]

    @admin.display(description=_("client id"))
    def client_id(self, obj) -> str:
        return obj.application.client_id

    @admin.display(description=_("scopes"))
    def scopes_shown(self, obj) -> str:
        # The stored codes ("read requests") in words; the model's help text is about the codes.
        labels = dict(AgencyApplication.Scope.choices)
        return "; ".join(str(labels.get(code, code)) for code in obj.allowed_scopes.split())

    def _own(self, request):
        if request.user.is_superuser:
            return None
        return user_department_ids(user=request.user, role="officer")

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("application", "department")
        own = self._own(request)
        return qs if own is None else qs.filter(department_id__in=own)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "department":
            own = self._own(request)
            qs = Department.objects.all()
            kwargs["queryset"] = qs if own is None else qs.filter(pk__in=own)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = AgencyApplicationForm if obj is None else AgencyApplicationChangeForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "department", "scopes"]
        return [
            "client_id",
            "department",
            "scopes_shown",
            "is_active",
            "created_by",
            "created_at",
            "secret_rotated_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "department"] if obj else []

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser or bool(self._own(request))

    has_view_permission = has_add_permission = lambda self, request, obj=None: (  # noqa: E731
        request.user.is_superuser or bool(self._own(request))
    )

    def has_change_permission(self, request, obj=None) -> bool:
        own = self._own(request)
        return own is None or (bool(own) and (obj is None or obj.department_id in own))

    def has_delete_permission(self, request, obj=None) -> bool:
        # Never deleted, disabled (through the service, audited, tokens revoked): deleting the
        # registration left its OAuth client able to get tokens, unaudited, and the audit log
        # names applications for as long as it is kept.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            # Through the service: disabling revokes the tokens and both are audited.
            if "is_active" in form.changed_data:
                application_set_active(
                    agency=obj, is_active=form.cleaned_data["is_active"], by=request.user
                )
            return
        agency, secret = application_create(
            department=form.cleaned_data["department"],
            name=form.cleaned_data["name"],
            scopes=" ".join(form.cleaned_data["scopes"]),
            by=request.user,
        )
        obj.__dict__.update(agency.__dict__)  # the admin's log and redirect use obj
        obj._state = agency._state
        self._secret_message(request, agency, secret)

    def _secret_message(self, request, agency, secret: str) -> None:
        messages.warning(
            request,
            gettext(
                "Client id: %(id)s — client secret: %(secret)s. Copy the secret now: it is "
                "stored hashed and will not be shown again."
            )
            % {"id": agency.application.client_id, "secret": secret},
        )

    @admin.action(description=_("Disable the selected applications (revokes live tokens)"))
    def disable_selected(self, request, queryset):
        done = 0
        for agency in queryset:
            if agency.is_active and self.has_change_permission(request, agency):
                application_set_active(agency=agency, is_active=False, by=request.user)
                done += 1
        messages.success(request, gettext("%(n)d application(s) disabled.") % {"n": done})

    @admin.action(description=_("Rotate the client secret (revokes live tokens)"))
    def rotate_secret(self, request, queryset):
        for agency in queryset:
            if not self.has_change_permission(request, agency):
                continue
            self._secret_message(
                request, agency, application_rotate_secret(agency=agency, by=request.user)
            )
