"""Model pieces shared by several domain apps."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StatusTransition(models.Model):
    """Who moved a case (a data request, an objection) from which state to which, when and
    why. Subclasses add the foreign key to their case, their ordering and the append-only
    trigger (a database trigger refuses UPDATE and DELETE)."""

    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("by (label)"), max_length=200, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        abstract = True


def transition_actor_label(*, by=None, agency=None) -> str:
    """The `actor_label` of a transition: the agency application that acted through the API
    (its OAuth2 client id), else the person who did."""
    if agency is not None:
        return f"application:{agency.application_id}"
    return str(by) if by is not None else ""
