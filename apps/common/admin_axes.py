"""The failed sign-in records page of django-axes, with a clean-up action that works.

django-axes' own "Clean up expired attempts" reads `request.axes_attempt_time`, which only its
login handling sets: from the admin it raised AttributeError (a 500) on every use. "Expired"
keeps its meaning here: with AXES_COOLOFF_TIME set and no AXES_USE_ATTEMPT_EXPIRATION (our
settings, config/settings/security.py), a record whose last failure is older than the cool-off
no longer counts towards a lockout (axes only counts newer ones), so deleting it changes nothing
for anyone's sign-in. A newer one is a live lockout or its run-up and is kept. (axes deletes
all expired records itself at each sign-in or failure; the action tidies up between those.)"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin
from axes.conf import settings
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.common.clock import now


def access_attempts_expired(*, attempts: QuerySet, request: HttpRequest) -> QuerySet:
    """Those of `attempts` that axes no longer counts towards a lockout."""
    if settings.AXES_USE_ATTEMPT_EXPIRATION:
        return attempts.filter(expiration__expires_at__lte=now())
    cool_off = get_cool_off(request)
    if cool_off is None:  # lockouts are for good: nothing ever expires
        return attempts.none()
    return attempts.filter(attempt_time__lte=now() - cool_off)


class GovDataAccessAttemptAdmin(AccessAttemptAdmin):
    # Same name as axes' action, so that its entry in `actions` is this method.
    @admin.action(description=_("Clean up expired attempts"))
    def cleanup_expired_attempts(self, request: HttpRequest, queryset: QuerySet) -> None:
        # Only the selected records, as for any admin action ("select all" takes every one).
        selected = queryset.count()
        by_model = access_attempts_expired(attempts=queryset, request=request).delete()[1]
        deleted = by_model.get(AccessAttempt._meta.label, 0)  # not their expiry rows
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


def register(site: admin.AdminSite) -> None:
    """Replaces axes' registration (made when axes.admin was imported, above), if it made one:
    AXES_ENABLE_ADMIN = False keeps the page away."""
    if site.is_registered(AccessAttempt):
        site.unregister(AccessAttempt)
        site.register(AccessAttempt, GovDataAccessAttemptAdmin)
