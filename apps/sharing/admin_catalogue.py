"""The responsibility list of every department as a department browses it in the admin: what
it may read of each published dataset now (in clear or masked, under which grants), and a form
to request the conditional fields, submitted through the same service as the API's
POST /requests/. Who may do what is apps.sharing.policy's answer; this module only shows it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.audit.services import origin_of
from apps.catalog.models import Dataset, Field, MaskingChoices, SharingTypeChoices
from apps.catalog.selectors import catalog_published
from apps.common import clock
from apps.common.admin_mixins import ReadOnlyAdminMixin, form_submitted
from apps.departments.models import Department
from apps.departments.selectors import departments_for_user, user_works_in_departments
from apps.sharing import policy, submission
from apps.sharing.admin_forms import RequestForm
from apps.sharing.models import DataRequest, PublishedDataset
from apps.sharing.policy import AccessDecision
from apps.sharing.row_filters import rows_label
from apps.sharing.selectors import requests_of_department_for, requests_pending_for

DEPARTMENT_PARAM = "department"
# What a published field is for the viewing department.
READABLE, REQUESTABLE, NOT_SHARED = "readable", "requestable", "not shared"


def viewer_departments(request) -> list[Department]:
    """The departments the viewer works in (officer or auditor), by code; cached per request."""
    if not hasattr(request, "_govdata_departments"):
        request._govdata_departments = list(
            departments_for_user(user=request.user).order_by("code")
        )
    return request._govdata_departments


def acting_department(request) -> Department | None:
    """The department whose access the pages show: the one named by ?department=<code> among
    the viewer's, else the first; None for a viewer without a department."""
    departments = viewer_departments(request)
    wanted = request.GET.get(DEPARTMENT_PARAM)
    for department in departments:
        if department.code == wanted:
            return department
    return departments[0] if departments else None


@dataclass(frozen=True)
class FieldRow:
    field: Field
    state: str  # READABLE, REQUESTABLE or NOT_SHARED
    mask: str = ""  # the masking applied to this department's reads, when READABLE
    rows: tuple[dict, ...] | None = None  # READABLE on these grants' rows only (None: all)

    @property
    def rows_label(self) -> str:
        return rows_label(self.rows) if self.rows is not None else ""

    @property
    def mask_label(self) -> str:
        return MaskingChoices(self.mask).label if self.mask in MaskingChoices.values else self.mask


def field_rows(dataset: Dataset, decision: AccessDecision | None) -> list[FieldRow]:
    """Each published field of `dataset` with what the department may do about it."""
    rows = []
    for f in dataset.fields.all():
        if f.published_sharing_type is None:
            continue
        access = decision.fields.get(f.name) if decision is not None else None
        if access is not None:
            rows.append(FieldRow(field=f, state=READABLE, mask=access.mask, rows=access.rows))
        elif f.published_sharing_type == SharingTypeChoices.NONE:
            rows.append(FieldRow(field=f, state=NOT_SHARED))
        else:
            rows.append(FieldRow(field=f, state=REQUESTABLE))
    return rows


def requestable_fields(dataset: Dataset) -> list[Field]:
    """The fields a request may name: published conditional ones (a request may also ask
    again for fields already granted, e.g. to extend a grant)."""
    if dataset.sharing_type == SharingTypeChoices.NONE:
        return []
    return [
        f
        for f in dataset.fields.all()
        if f.published_sharing_type == SharingTypeChoices.CONDITIONAL
    ]


def access_summary(dataset: Dataset, decision: AccessDecision, pending_id: int | None) -> str:
    if decision.is_owner:
        return _("Your department's dataset")
    rows = field_rows(dataset, decision)
    readable = [r for r in rows if r.state == READABLE]
    parts = [
        _("%(readable)d of %(total)d fields readable (%(masked)d masked)")
        % {
            "readable": len(readable),
            "total": len(rows),
            "masked": sum(1 for r in readable if r.mask != "none"),
        }
    ]
    requestable = sum(1 for r in rows if r.state == REQUESTABLE)
    if requestable:
        parts.append(_("%(n)d requestable") % {"n": requestable})
    if pending_id is not None:
        parts.append(_("request #%(id)s pending") % {"id": pending_id})
    return " · ".join(parts)


class ActingDepartmentFilter(admin.SimpleListFilter):
    """Whose access the list shows, for a viewer working in several departments; it selects no
    rows (every published dataset is listed)."""

    title = gettext_lazy("access of")
    parameter_name = DEPARTMENT_PARAM

    def lookups(self, request, model_admin):
        departments = viewer_departments(request)
        return [(d.code, d.name) for d in departments] if len(departments) > 1 else []

    def queryset(self, request, queryset):
        return queryset


@admin.register(PublishedDataset)
class PublishedDatasetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "provider", "sharing_type", "update_frequency")
    list_display_links = ("code", "name")
    list_filter = (
        ActingDepartmentFilter,
        ("provider", admin.RelatedOnlyFieldListFilter),
        "sharing_type",
        "update_frequency",
    )
    search_fields = ("code", "name", "summary", "category", "provider__code", "provider__name",
                     "fields__name", "fields__label")  # fmt: skip
    ordering = ("code",)

    def has_module_permission(self, request) -> bool:
        return user_works_in_departments(user=request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return user_works_in_departments(user=request.user)

    def get_queryset(self, request):
        return catalog_published()

    def get_list_display(self, request):
        # Filled for the page's rows by get_changelist_instance, in a fixed number of queries;
        # bound to this request (the admin instance is shared between requests), one dict
        # however many times the admin asks for the columns.
        summaries: dict[int, str] = request.__dict__.setdefault("_govdata_access_summaries", {})

        @admin.display(description=_("your access"))
        def your_access(obj):
            return summaries.get(obj.pk, "—")

        return (*self.list_display, your_access)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        department = acting_department(request)
        if department is not None:
            datasets = list(changelist.result_list)
            decisions = policy.accessible_fields_for_catalog(
                datasets=datasets, department=department
            )
            pending = requests_pending_for(
                department=department, dataset_ids=[d.pk for d in datasets]
            )
            request.__dict__.setdefault("_govdata_access_summaries", {}).update(
                {d.pk: access_summary(d, decisions[d.pk], pending.get(d.pk)) for d in datasets}
            )
        return changelist

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/request/", wrap(lambda r, pk: request_view(self, r, pk)),
                 name="sharing_publisheddataset_request"),
        ] + super().get_urls()  # fmt: skip

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        dataset = _published_or_404(object_id)
        department = acting_department(request)
        decision = None
        requests: list[DataRequest] = []
        if department is not None:
            decision = policy.access_for(dataset=dataset, department=department)
            requests = list(requests_of_department_for(department=department, dataset=dataset))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{dataset.code} {dataset.name}",
            "dataset": dataset,
            "department": department,
            "departments": viewer_departments(request),
            "is_owner": decision is not None and decision.is_owner,
            "rows": field_rows(dataset, decision),
            "requests": requests,
            "request_url": _request_url(dataset, department)
            if _may_request(request, dataset, department, requests)
            else "",
        }
        return TemplateResponse(request, "admin/sharing/publisheddataset/detail.html", context)


def _published_or_404(pk) -> Dataset:
    try:
        return catalog_published().get(pk=pk)
    except (Dataset.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("No published dataset with this id.")) from exc


def _request_url(dataset: Dataset, department: Department | None) -> str:
    url = reverse("admin:sharing_publisheddataset_request", args=[dataset.pk])
    return f"{url}?{DEPARTMENT_PARAM}={department.code}" if department is not None else url


def _may_request(request, dataset, department, requests) -> bool:
    """Offer the request form to an officer of a department other than the provider, for a
    dataset with conditional fields, while no request of the department is pending."""
    return (
        department is not None
        and dataset.provider_id != department.pk
        and bool(requestable_fields(dataset))
        and not any(r.status == DataRequest.Status.SUBMITTED for r in requests)
        and policy.may_submit_request(consumer=department, user=request.user)
    )


def may_request_somewhere(request) -> bool:
    """Whether the viewer may submit a request for one of its departments."""
    return any(
        policy.may_submit_request(consumer=d, user=request.user)
        for d in viewer_departments(request)
    )


def _default_end(max_days: int) -> dt.date:
    return clock.today() + dt.timedelta(days=min(365, max_days))


def request_view(model_admin, request, pk):
    dataset = _published_or_404(pk)
    department = acting_department(request)
    if department is None:
        raise PermissionDenied(_("Only an officer of a department can request data."))
    policy.require_may_submit_request(consumer=department, user=request.user)
    back = reverse("admin:sharing_publisheddataset_change", args=[dataset.pk])
    fields = requestable_fields(dataset)
    if dataset.provider_id == department.pk or not fields:
        messages.error(request, _("%(code)s has no field to request.") % {"code": dataset.code})
        return HttpResponseRedirect(back)
    max_days, _max_chars = submission.request_limits()
    form = RequestForm(
        request.POST or None,
        choices=[(f.name, f"{f.name} {f.label}") for f in fields],
        initial={"valid_until": _default_end(max_days)},
    )

    def submit(data: dict) -> tuple[str, str]:
        created = submission.request_submit(
            consumer=department,
            dataset=dataset,
            fields=data["fields"],
            purpose=data["purpose"],
            legal_basis=data["legal_basis"],
            valid_until=data["valid_until"],
            by=request.user,
            origin=origin_of(request),
        )
        return (
            reverse("admin:sharing_datarequest_change", args=[created.pk]),
            _("Request #%(id)s sent to %(provider)s; the answer is due by %(due)s.")
            % {"id": created.pk, "provider": dataset.provider.name, "due": created.due_by},
        )

    if (done := form_submitted(request, form, submit)) is not None:
        return done
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Request data from %(code)s %(name)s")
        % {"code": dataset.code, "name": dataset.name},
        "dataset": dataset,
        "department": department,
        "form": form,
        "back_url": back,
        "answer_days": settings.GOVDATA["REQUEST_ANSWER_WORKING_DAYS"],
    }
    return TemplateResponse(request, "admin/sharing/publisheddataset/request.html", context)
