"""Notifications: a row shown in the admin and an e-mail (Django's mail backend), sent only
after the transaction that caused them commits."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import translation

from apps.common import clock
from apps.common.texts import Text
from apps.departments.models import Membership
from apps.sharing.models import Notification


def department_officers(*, department) -> QuerySet:
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__department=department,
            memberships__role=Membership.Role.OFFICER,
        )
        .distinct()
    )


def platform_admins() -> QuerySet:
    return get_user_model().objects.filter(is_active=True, is_superuser=True)


def notify(*, recipients: Iterable, subject: Text | str, body: Text | str, link: str = "") -> int:
    """Creates one Notification per recipient and e-mails those who have an address. A Text
    subject or body is shown to each reader in their language; e-mails and the stored text are
    in the platform's (settings.LANGUAGE_CODE)."""
    users = list(recipients)
    now = clock.now()
    message = {
        part: value.to_json()
        for part, value in (("subject", subject), ("body", body))
        if isinstance(value, Text)
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = str(subject), str(body)
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=u,
                subject=subject,
                body=body,
                link=link,
                created_at=now,
                message=message,
            )
            for u in users
        ]
    )
    addresses = sorted({u.email for u in users if u.email})
    if addresses:
        text = f"{body}\n\n{link}" if link else body

        def _send() -> None:
            # One message per address: departments must not learn each other's officers.
            for address in addresses:
                send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [address])

        transaction.on_commit(_send)
    return len(users)


def notification_mark_read(*, notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = clock.now()
        notification.save(update_fields=["read_at"])
