"""Problem details for 404 and 500 raised outside DRF (unknown /api/ paths, crashes)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.views import defaults

from apps.common.problems import problem_response


def _is_api(request) -> bool:
    return request.path.startswith(("/api/", "/oauth/"))


def handler404(request, exception=None):
    if _is_api(request):
        return problem_response(request, 404, _("There is nothing at this address."))
    return defaults.page_not_found(request, exception)


def handler500(request):
    if _is_api(request):
        return problem_response(
            request, 500, _("The server failed; quote the request id when reporting it.")
        )
    return defaults.server_error(request)
