"""The OAuth2 client and token pages of django-oauth-toolkit, in the reader's language.

The package's admins head their id column "Pk" (a column without a description is named after
its attribute), their masked token and code columns "token" and "code", name their revoke
actions in English, all without gettext, and title a token "AccessToken #8" (the models' str()).
These subclasses change only those words; what the package's admins do (masking, no adding, no
deleting of tokens, revoking through its shared path) is theirs, unchanged.

The agency applications (apps.api.admin) are another model, which has an OAuth2 client: not
touched here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from oauth2_provider.admin import (
    AccessTokenAdmin,
    ApplicationAdmin,
    GrantAdmin,
    IDTokenAdmin,
    RefreshTokenAdmin,
)
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from apps.common.admin_titles import ObjectTitleMixin, numbered_title


def _numbered_models() -> tuple[type, ...]:
    """The models whose objects these pages name "<model> #<id>" (their str() is English)."""
    return (
        get_access_token_model(),
        get_refresh_token_model(),
        get_grant_model(),
        get_id_token_model(),
    )


class NumberedRawIdWidget(ForeignKeyRawIdWidget):
    """A raw id box whose object is named "<model> #<id>" beside it, not by its str()."""

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        label, url = super().label_and_url_for_value(value)
        if label:  # the object exists (these keys are ids)
            label = f"{capfirst(self.rel.model._meta.verbose_name)} #{value}"
        return label, url


class IdColumnMixin:
    """The package's "pk" column under a translated heading."""

    def get_list_display(self, request: HttpRequest) -> list:
        return ["id_shown" if name == "pk" else name for name in super().get_list_display(request)]

    @admin.display(description=_("ID"), ordering="pk")
    def id_shown(self, obj: Any) -> Any:
        return obj.pk


class TokenPages(IdColumnMixin, ObjectTitleMixin):
    """Token and code pages: titled "<model> #<id>", as are the tokens they link to."""

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        numbered = db_field.related_model in _numbered_models()
        if numbered and "widget" not in kwargs and db_field.name in self.raw_id_fields:
            kwargs["widget"] = NumberedRawIdWidget(
                db_field.remote_field, self.admin_site, using=kwargs.get("using")
            )
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if numbered and formfield is not None:
            formfield.label_from_instance = numbered_title  # the choices of a select
        return formfield


class GovDataApplicationAdmin(IdColumnMixin, ApplicationAdmin):
    pass  # titled by its name already


class GovDataAccessTokenAdmin(TokenPages, AccessTokenAdmin):
    @admin.display(description=_("token (masked)"))
    def masked_token(self, obj: Any) -> str:
        return super().masked_token(obj)

    # Same name as the package's action, so that its entry in `actions` is this method.
    @admin.action(description=_("Revoke selected access tokens"), permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet) -> None:
        super().revoke_tokens(request, queryset)


class GovDataRefreshTokenAdmin(TokenPages, RefreshTokenAdmin):
    @admin.display(description=_("token (masked)"))
    def masked_token(self, obj: Any) -> str:
        return super().masked_token(obj)

    @admin.action(description=_("Revoke selected refresh tokens"), permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet) -> None:
        super().revoke_tokens(request, queryset)


class GovDataGrantAdmin(TokenPages, GrantAdmin):
    @admin.display(description=_("authorization code (masked)"))
    def masked_code(self, obj: Any) -> str:
        return super().masked_code(obj)


class GovDataIDTokenAdmin(TokenPages, IDTokenAdmin):
    pass


def register(site: admin.AdminSite) -> None:
    """Replaces the package's registrations (made when oauth2_provider.admin was imported,
    above)."""
    admins = {
        get_application_model(): GovDataApplicationAdmin,
        get_access_token_model(): GovDataAccessTokenAdmin,
        get_refresh_token_model(): GovDataRefreshTokenAdmin,
        get_grant_model(): GovDataGrantAdmin,
        get_id_token_model(): GovDataIDTokenAdmin,
    }
    for model, model_admin in admins.items():
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, model_admin)
