"""The admin's decision pages (approve, reject, withdraw, revoke). They call the same services
as the API and turn the services' errors into form errors. A viewer whom apps.sharing.policy
does not allow the decision is refused (403) before any form is shown, as the service would
refuse the POST; a request or grant no longer in a state that allows it (decided, withdrawn,
revoked) sends the viewer back to its page with a message instead of a form that can only
fail."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.audit.services import origin_of
from apps.common.admin_mixins import form_submitted
from apps.sharing import policy, services
from apps.sharing.admin_forms import ApproveForm, OptionalReasonForm, ReasonForm
from apps.sharing.models import DataRequest, Grant
from apps.sharing.selectors import grants_visible_to, requests_visible_to


def _render(model_admin, request, *, obj, form, title, submit_label, back_url):
    summary = [
        (_("Requesting department"), obj.consumer.name),
        (_("Dataset"), f"{obj.dataset.code} {obj.dataset.name}"),
    ]
    if isinstance(obj, DataRequest):
        summary += [
            (_("Purpose"), obj.purpose),
            (_("Legal basis"), obj.legal_basis),
            (_("Requested until"), obj.valid_until),
            (_("Answer due by"), obj.due_by),
        ]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "form": form,
        "summary": summary,
        "submit_label": submit_label,
        "back_url": back_url,
    }
    return TemplateResponse(request, "admin/form_page.html", context)


def _request_or_404(request, pk) -> DataRequest:
    try:
        return requests_visible_to(user=request.user).get(pk=pk)
    except DataRequest.DoesNotExist as exc:
        raise Http404 from exc


def _no_longer(request, obj, url: str) -> HttpResponseRedirect:
    messages.error(
        request,
        _("#%(id)s is %(status)s: there is nothing left to decide.")
        % {"id": obj.pk, "status": obj.get_status_display()},
    )
    return HttpResponseRedirect(url)


def _request_page(obj: DataRequest) -> str:
    return reverse("admin:sharing_datarequest_change", args=[obj.pk])


def approve_view(model_admin, request, pk):
    obj = _request_or_404(request, pk)
    policy.require_may_decide_request(user=request.user, request=obj)
    if policy.APPROVE not in policy.request_actions(user=request.user, request=obj):
        return _no_longer(request, obj, _request_page(obj))
    back = reverse("admin:sharing_datarequest_changelist")
    form = ApproveForm(request.POST or None, request_obj=obj)

    def approve(data: dict) -> tuple[str, str]:
        grant = services.request_approve(
            request=obj,
            by=request.user,
            fields=data["fields"],
            valid_until=data["valid_until"],
            row_filter=data["row_filter"] or None,
            masks=data["masks"] or None,
            origin=origin_of(request),
        )
        return (
            reverse("admin:sharing_grant_change", args=[grant.pk]),
            _("Request #%(id)s approved.") % {"id": obj.pk},
        )

    if (done := form_submitted(request, form, approve)) is not None:
        return done
    return _render(
        model_admin,
        request,
        obj=obj,
        form=form,
        back_url=back,
        title=_("Approve request #%(id)s") % {"id": obj.pk},
        submit_label=_("Approve"),
    )


def reject_view(model_admin, request, pk):
    obj = _request_or_404(request, pk)
    policy.require_may_decide_request(user=request.user, request=obj)
    if policy.REJECT not in policy.request_actions(user=request.user, request=obj):
        return _no_longer(request, obj, _request_page(obj))
    back = reverse("admin:sharing_datarequest_changelist")
    form = ReasonForm(request.POST or None)

    def reject(data: dict) -> tuple[str, str]:
        services.request_reject(
            request=obj, by=request.user, reason=data["reason"], origin=origin_of(request)
        )
        return back, _("Request #%(id)s rejected.") % {"id": obj.pk}

    if (done := form_submitted(request, form, reject)) is not None:
        return done
    return _render(
        model_admin,
        request,
        obj=obj,
        form=form,
        back_url=back,
        title=_("Reject request #%(id)s") % {"id": obj.pk},
        submit_label=_("Reject"),
    )


def withdraw_view(model_admin, request, pk):
    obj = _request_or_404(request, pk)
    policy.require_may_withdraw_request(user=request.user, request=obj)
    if policy.WITHDRAW not in policy.request_actions(user=request.user, request=obj):
        return _no_longer(request, obj, _request_page(obj))
    form = OptionalReasonForm(request.POST or None)

    def withdraw(data: dict) -> tuple[str, str]:
        services.request_withdraw(
            request=obj, by=request.user, reason=data["reason"], origin=origin_of(request)
        )
        return _request_page(obj), _("Request #%(id)s withdrawn.") % {"id": obj.pk}

    if (done := form_submitted(request, form, withdraw)) is not None:
        return done
    return _render(
        model_admin,
        request,
        obj=obj,
        form=form,
        back_url=_request_page(obj),
        title=_("Withdraw request #%(id)s") % {"id": obj.pk},
        submit_label=_("Withdraw"),
    )


def revoke_view(model_admin, request, pk):
    try:
        grant = grants_visible_to(user=request.user).get(pk=pk)
    except Grant.DoesNotExist as exc:
        raise Http404 from exc
    policy.require_may_revoke_grant(user=request.user, grant=grant)
    if policy.REVOKE not in policy.grant_actions(user=request.user, grant=grant):
        return _no_longer(request, grant, reverse("admin:sharing_grant_change", args=[grant.pk]))
    back = reverse("admin:sharing_grant_changelist")
    form = ReasonForm(request.POST or None)

    def revoke(data: dict) -> tuple[str, str]:
        services.grant_revoke(
            grant=grant, by=request.user, reason=data["reason"], origin=origin_of(request)
        )
        return back, _("Grant revoked.")

    if (done := form_submitted(request, form, revoke)) is not None:
        return done
    return _render(
        model_admin,
        request,
        obj=grant,
        form=form,
        back_url=back,
        title=_("Revoke the grant of %(dept)s") % {"dept": grant.consumer.name},
        submit_label=_("Revoke"),
    )
