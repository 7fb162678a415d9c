"""E-mail of anomaly alerts to the auditors concerned: the platform auditors and the
auditors of the consumer and provider departments, one message per address, in the platform's
language, with a link to the alert in the console."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from apps.audit import labels
from apps.audit.models import Alert
from apps.common import clock
from apps.departments.models import PLATFORM_AUDITORS_GROUP, Department, Membership


def _auditor_emails(alert: Alert) -> list[str]:
    users = get_user_model().objects.filter(
        Q(groups__name=PLATFORM_AUDITORS_GROUP)
        | Q(
            memberships__department_id__in=alert.department_ids,
            memberships__role=Membership.Role.AUDITOR,
        ),
        is_active=True,
    )
    return sorted({email for email in users.values_list("email", flat=True) if email})


def alert_link(alert: Alert) -> str:
    """The alert in the console (with GOVDATA["SITE_URL"] in front when it is set)."""
    path = f"{reverse('admin:audit_console_alerts')}?id={alert.pk}"
    return settings.GOVDATA.get("SITE_URL", "").rstrip("/") + path


def alert_email(alert: Alert) -> tuple[str, str]:
    """Subject and body of an alert's e-mail, in the active language: the window in the
    platform's zone, saying which, the departments by name, the details as labelled lines and
    a link to the alert in the console."""
    named = {
        pk: f"{name} ({code})"
        for pk, name, code in Department.objects.filter(pk__in=alert.department_ids).values_list(
            "pk", "name", "code"
        )
    }

    def dept(pk: int | None) -> str:
        return named.get(pk, "-")

    providers = [p for p in alert.department_ids if p != alert.department_id]
    subject = _("[GovData audit] %(kind)s: %(dept)s") % {
        "kind": alert.get_kind_display(),
        "dept": dept(alert.department_id),
    }
    lines = [
        alert.summary_text,
        "",
        f"{_('Window')}: {labels.local_time(alert.window_start)} – "
        f"{labels.local_time(alert.window_end)}",
        f"{_('Consumer department')}: {dept(alert.department_id)}",
    ]
    if providers:
        lines.append(f"{_('Provider departments')}: {', '.join(dept(p) for p in providers)}")
    lines += [f"{label}: {value}" for label, value in labels.alert_detail_items(alert.details)]
    lines += ["", f"{_('Open in the console')}: {alert_link(alert)}"]
    return subject, "\n".join(lines)


def alerts_notify() -> int:
    """E-mail every alert not yet sent to the platform auditors and the auditors of the
    departments concerned (consumer and providers); marks it sent. One message per address:
    departments must not learn each other's auditors."""
    sent = 0
    for alert in Alert.objects.filter(emailed_at__isnull=True).order_by("created_at", "pk"):
        recipients = _auditor_emails(alert)
        if recipients:
            with translation.override(settings.LANGUAGE_CODE):
                subject, body = alert_email(alert)
            for address in recipients:
                send_mail(subject=subject, message=body, from_email=None, recipient_list=[address])
            sent += 1
        Alert.objects.filter(pk=alert.pk).update(emailed_at=clock.now())
    return sent
