"""Problem details for 403, 404 and 500 raised outside DRF (unknown /api/ paths, crashes)."""

from __future__ import annotations

from django.http import HttpResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

from apps.common.problems import problem_response


def _is_api(request) -> bool:
    return request.path.startswith(("/api/", "/oauth/"))


def _admin_page(request, template: str, status: int, exception) -> HttpResponse:
    """The admin's own look (header, user tools, language) around the error; the reason a
    PermissionDenied carries (the policy's words, already translated) is shown as given."""
    from django.contrib import admin

    # each_context lists the apps the user may see: only once authentication has run.
    shell = admin.site.each_context(request) if hasattr(request, "user") else {}
    context = {
        **shell,
        "exception": str(exception) if exception else "",
        "request_path": request.path,
    }
    return HttpResponse(loader.render_to_string(template, context, request), status=status)


def handler403(request, exception=None):
    if _is_api(request):
        return problem_response(request, 403, _("You are not allowed to do this."))
    return _admin_page(request, "403.html", 403, exception)


def handler404(request, exception=None):
    if _is_api(request):
        return problem_response(request, 404, _("There is nothing at this address."))
    return _admin_page(request, "404.html", 404, None)


def handler500(request):
    if _is_api(request):
        return problem_response(
            request, 500, _("The server failed; quote the request id when reporting it.")
        )
    return defaults.server_error(request)
