"""The console's link to the signed NDJSON export (apps.audit.export_api), shown to platform
auditors only: department auditors cannot verify a slice of the chain (docs/audit-verification
.md), so the link would only lead them to a 403."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from apps.departments.selectors import user_is_platform_auditor

register = template.Library()


@register.simple_tag(takes_context=True)
def audit_export_link(context: template.Context) -> SafeString | str:
    request = context.get("request")
    if request is None or not user_is_platform_auditor(user=request.user):
        return ""
    return format_html(
        '<p><a class="button" href="{}" download>{}</a> {} '
        "<code>python govdata/auditchain.py FILE --public-key KEY.pem</code> "
        '(<a href="{}">{}</a>)</p>',
        reverse("audit:export"),
        _("Download the signed log (NDJSON)"),
        _("Verify it on your own machine:"),
        reverse("audit:public-key"),
        _("public key"),
    )
