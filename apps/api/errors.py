"""Problem details for the errors Django answers outside DRF under /api/ and /oauth/ (unknown
paths, a bad Host header, a method a view does not take, crashes); the admin's own pages
elsewhere."""

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


def handler400(request, exception=None):
    if _is_api(request):
        return problem_response(request, 400, _("The request is malformed."))
    return defaults.bad_request(request, exception)


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


class ApiErrorsMiddleware:
    """A response Django itself gives under the API with a page instead of a problem document
    (a method the view does not take: a 405 with an empty text/html body, on the OAuth token
    endpoint for instance) is answered as a problem document, with its headers (Allow) kept.
    The OAuth endpoints' own errors are JSON (RFC 6749) and stay as they are."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400 or not _is_api(request):
            return response
        if response.get("Content-Type", "").startswith(("application/", "text/csv")):
            return response
        if response.status_code == 405:
            detail = _("This address does not take %(method)s requests.") % {
                "method": request.method
            }
        else:
            detail = _("The request failed (HTTP %(status)d).") % {"status": response.status_code}
        problem = problem_response(request, response.status_code, detail)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                problem[header] = response[header]
        return problem
