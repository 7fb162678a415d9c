"""The admin's objection pages: submit (in two steps: the dataset, then the record and fields),
answer and withdraw. They call the same services as the API and turn the services' errors into
form errors. A viewer whom apps.objections.policy does not allow the change is refused (403)
before any form is shown, as the service would refuse the POST."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.audit.services import origin_of
from apps.common.admin_mixins import apply_errors, form_submitted
from apps.departments.models import Department
from apps.objections import policy, services
from apps.objections.admin_forms import AnswerForm, ObjectionForm, TargetForm, WithdrawForm
from apps.objections.models import Objection
from apps.objections.selectors import objection_targets, objections_visible_to

CHANGELIST = "admin:objections_objection_changelist"


def _render(model_admin, request, **context):
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "back_url": reverse(CHANGELIST),
        **context,
    }
    return TemplateResponse(request, "admin/form_page.html", context)


def _summary(obj: Objection) -> list[tuple[str, object]]:
    return [
        (_("Reporting department"), obj.consumer.name),
        (_("Dataset"), f"{obj.dataset.code} {obj.dataset.name}"),
        (_("Record key"), obj.record_key),
        (_("Fields concerned"), ", ".join(i.field_name for i in obj.items.all())),
        (_("What is wrong"), obj.description),
        (_("Value believed correct"), obj.proposed_value or "—"),
        (_("Answer due by"), obj.due_by),
    ]


def _objection_or_404(request, pk) -> Objection:
    try:
        return objections_visible_to(user=request.user).get(pk=pk)
    except Objection.DoesNotExist as exc:
        raise Http404 from exc


def _targets(user) -> dict[str, tuple]:
    """Choice value to (department, dataset, decision), for every department the officer acts
    for and every dataset it may report on."""
    departments = Department.objects.filter(
        pk__in=policy.officer_department_ids(user=user)
    ).order_by("code")
    return {
        f"{department.pk}:{dataset.pk}": (department, dataset, decision)
        for department in departments
        for dataset, decision in objection_targets(department=department)
    }


def _target_label(department, dataset, several: bool) -> str:
    label = f"{dataset.code} {dataset.name} ({dataset.provider.name})"
    return f"{department.name} → {label}" if several else label


def submit_view(model_admin, request):
    if not policy.may_submit_objections(user=request.user):
        raise PermissionDenied(_("Only data officers report objections."))
    targets = _targets(request.user)
    chosen = request.POST.get("target") or request.GET.get("target")
    title = _("Report a data-quality objection")
    if chosen not in targets:
        if not targets:
            return _render(
                model_admin,
                request,
                title=title,
                intro=_("Your department reads no other department's dataset by its key."),
            )
        several = len({d.pk for d, _ds, _dec in targets.values()}) > 1
        choices = [(v, _target_label(d, ds, several)) for v, (d, ds, _dec) in targets.items()]
        return _render(
            model_admin,
            request,
            title=title,
            form=TargetForm(choices=choices),
            method="get",
            submit_label=_("Next"),
        )
    department, dataset, decision = targets[chosen]
    fields = [f for f in dataset.fields.all() if decision.readable(f.name)]
    form = ObjectionForm(
        request.POST if request.method == "POST" else None,
        field_choices=[(f.name, f"{f.name} {f.label}") for f in fields],
    )
    if request.method == "POST" and form.is_valid():
        try:
            objection = services.objection_submit(
                consumer=department,
                dataset=dataset,
                key=form.cleaned_data["key"],
                fields=form.cleaned_data["fields"],
                description=form.cleaned_data["description"],
                proposed_value=form.cleaned_data["proposed_value"],
                by=request.user,
                origin=origin_of(request),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Objection #%(id)s reported; %(provider)s must answer by %(due)s.")
                % {"id": objection.pk, "provider": dataset.provider.name, "due": objection.due_by},
            )
            return HttpResponseRedirect(
                reverse("admin:objections_objection_change", args=[objection.pk])
            )
    return _render(
        model_admin,
        request,
        title=title,
        summary=[
            (_("Reporting department"), department.name),
            (_("Dataset"), f"{dataset.code} {dataset.name}"),
            (_("Key field"), dataset.key_field),
        ],
        form=form,
        hidden=[("target", chosen)],
        submit_label=_("Report"),
    )


def _closed(request, obj: Objection):
    """A closed objection's action pages say so at once, on the objection's page, instead of
    offering a form whose answer can only be refused."""
    if obj.status == Objection.Status.OPEN:
        return None
    messages.error(
        request,
        _("Objection #%(id)s is %(status)s; it can no longer be changed.")
        % {"id": obj.pk, "status": obj.get_status_display()},
    )
    return HttpResponseRedirect(reverse("admin:objections_objection_change", args=[obj.pk]))


def answer_view(model_admin, request, pk):
    obj = _objection_or_404(request, pk)
    policy.require_may_answer_objection(objection=obj, user=request.user)
    if (closed := _closed(request, obj)) is not None:
        return closed
    form = AnswerForm(request.POST or None)

    def answer(data: dict) -> tuple[str, str]:
        services.objection_answer(
            objection=obj,
            by=request.user,
            outcome=data["outcome"],
            answer=data["answer"],
            origin=origin_of(request),
        )
        return reverse(CHANGELIST), _("Objection #%(id)s answered.") % {"id": obj.pk}

    if (done := form_submitted(request, form, answer)) is not None:
        return done
    return _render(
        model_admin,
        request,
        title=_("Answer objection #%(id)s") % {"id": obj.pk},
        summary=_summary(obj),
        form=form,
        submit_label=_("Answer"),
    )


def withdraw_view(model_admin, request, pk):
    obj = _objection_or_404(request, pk)
    policy.require_may_withdraw_objection(objection=obj, user=request.user)
    if (closed := _closed(request, obj)) is not None:
        return closed
    form = WithdrawForm(request.POST or None)

    def withdraw(data: dict) -> tuple[str, str]:
        services.objection_withdraw(
            objection=obj, by=request.user, reason=data["reason"], origin=origin_of(request)
        )
        return reverse(CHANGELIST), _("Objection #%(id)s withdrawn.") % {"id": obj.pk}

    if (done := form_submitted(request, form, withdraw)) is not None:
        return done
    return _render(
        model_admin,
        request,
        title=_("Withdraw objection #%(id)s") % {"id": obj.pk},
        summary=_summary(obj),
        form=form,
        submit_label=_("Withdraw"),
    )
