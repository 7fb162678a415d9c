"""The failed sign-in records page of django-axes, with a clean-up action that works.

django-axes' own "Clean up expired attempts" reads `request.axes_attempt_time`, which only its
login handling sets: from the admin it raised AttributeError (a 500) on every use. "Expired"
keeps its meaning here: with AXES_COOLOFF_TIME set and no AXES_USE_ATTEMPT_EXPIRATION (our
settings, config/settings/security.py), a record whose last failure is older than the cool-off
no longer counts towards a lockout (axes only counts newer ones), so deleting it changes nothing
for anyone's sign-in. A newer one is a live lockout or its run-up and is kept. (axes deletes
all expired records itself at each sign-in or failure; the action tidies up between those.)

Deleting these records is a security decision (a deleted failed sign-in record unlocks its
account; the logs are the evidence of who signed in): the clean-up action and every deletion
through these pages are audit events. The pages name each record in the reader's language and
time zone (apps.common.admin_titles), where axes writes an English text with a UTC time."""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.conf import settings
from axes.helpers import get_cool_off
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.common.admin_mixins import admin_datetime
from apps.common.admin_titles import ObjectTitleMixin
from apps.common.clock import now

CLEANUP_ACTION = "signin_records.cleanup"
DELETE_ACTION = "signin_records.delete"
# An event lists at most this many of the records it deleted (all are counted): "select all"
# over a password spray would otherwise put thousands in one event.
RECORDS_LISTED = 100


def access_attempts_expired(*, attempts: QuerySet, request: HttpRequest) -> QuerySet:
    """Those of `attempts` that axes no longer counts towards a lockout."""
    if settings.AXES_USE_ATTEMPT_EXPIRATION:
        return attempts.filter(expiration__expires_at__lte=now())
    cool_off = get_cool_off(request)
    if cool_off is None:  # lockouts are for good: nothing ever expires
        return attempts.none()
    return attempts.filter(attempt_time__lte=now() - cool_off)


@transaction.atomic
def access_records_delete(*, records: QuerySet, action: str, request: HttpRequest) -> int:
    """Delete `records` (of one django-axes model) and record who did, which and from where as
    the audit event `action`, or delete nothing. Returns how many records were deleted (not
    counting the expiry rows that go with failed sign-in records)."""
    from apps.audit.services import audit_record_admin, origin_of

    model = records.model
    # Locked, so that the event names exactly the records deleted.
    rows = list(
        records.select_for_update(of=("self",))
        .order_by("-attempt_time", "pk")
        .values("pk", "username", "ip_address", "attempt_time")
    )
    if not rows:
        return 0
    by_model = model._default_manager.filter(pk__in=[row["pk"] for row in rows]).delete()[1]
    deleted = by_model.get(model._meta.label, 0)
    audit_record_admin(
        action=action,
        actor=request.user,
        target=model._meta.label_lower,
        details={
            "model": model._meta.label_lower,
            "deleted": deleted,
            "records": [
                {
                    "username": row["username"] or "",
                    "ip_address": row["ip_address"] or "",
                    "attempt_time": row["attempt_time"].isoformat(),
                }
                for row in rows[:RECORDS_LISTED]
            ],
        },
        origin=origin_of(request),
    )
    return deleted


class SignInRecordPages(ObjectTitleMixin):
    """What the three axes admins share: deletions audited, records titled by who, from where
    and when (in the reader's language and time zone)."""

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        access_records_delete(
            records=self.model._default_manager.filter(pk=obj.pk),
            action=DELETE_ACTION,
            request=request,
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        access_records_delete(records=queryset, action=DELETE_ACTION, request=request)

    def title_parts(self, record: Any) -> dict[str, str]:
        empty = str(self.get_empty_value_display())
        return {
            "username": record.username or empty,
            "ip_address": record.ip_address or empty,
            # As the admin shows times: localised, in the platform's time zone.
            "time": admin_datetime(record.attempt_time),
        }


class GovDataAccessAttemptAdmin(SignInRecordPages, AccessAttemptAdmin):
    def object_title(self, obj: AccessAttempt) -> str:
        return gettext("%(username)s from %(ip_address)s, last failure %(time)s") % (
            self.title_parts(obj)
        )

    # axes' column has no description: it was headed "Status" in every language.
    @admin.display(description=_("Status"))
    def status(self, obj: AccessAttempt) -> str:
        return super().status(obj)

    # Same name as axes' action, so that its entry in `actions` is this method.
    @admin.action(description=_("Clean up expired attempts"), permissions=["delete"])
    def cleanup_expired_attempts(self, request: HttpRequest, queryset: QuerySet) -> None:
        # Only the selected records, as for any admin action ("select all" takes every one).
        selected = queryset.count()
        deleted = access_records_delete(
            records=access_attempts_expired(attempts=queryset, request=request),
            action=CLEANUP_ACTION,
            request=request,
        )
        self.message_user(
            request,
            ngettext(
                "Deleted %(count)d expired failed sign-in record.",
                "Deleted %(count)d expired failed sign-in records.",
                deleted,
            )
            % {"count": deleted},
            messages.SUCCESS,
        )
        kept = selected - deleted
        if kept:
            self.message_user(
                request,
                ngettext(
                    "%(count)d selected record still counts towards a lockout and was kept.",
                    "%(count)d selected records still count towards a lockout and were kept.",
                    kept,
                )
                % {"count": kept},
                messages.WARNING,
            )


class GovDataAccessLogAdmin(SignInRecordPages, AccessLogAdmin):
    def object_title(self, obj: AccessLog) -> str:
        return gettext("Sign-in of %(username)s from %(ip_address)s at %(time)s") % (
            self.title_parts(obj)
        )


class GovDataAccessFailureLogAdmin(SignInRecordPages, AccessFailureLogAdmin):
    def object_title(self, obj: AccessFailureLog) -> str:
        if obj.locked_out:
            text = gettext(
                "Failed sign-in of %(username)s from %(ip_address)s at %(time)s, locked out"
            )
        else:
            text = gettext("Failed sign-in of %(username)s from %(ip_address)s at %(time)s")
        return text % self.title_parts(obj)


ADMINS = {
    AccessAttempt: GovDataAccessAttemptAdmin,
    AccessLog: GovDataAccessLogAdmin,
    AccessFailureLog: GovDataAccessFailureLogAdmin,
}


def register(site: admin.AdminSite) -> None:
    """Replaces axes' registrations (made when axes.admin was imported, above), where it made
    them: AXES_ENABLE_ADMIN = False keeps the pages away."""
    for model, model_admin in ADMINS.items():
        if site.is_registered(model):
            site.unregister(model)
            site.register(model, model_admin)
