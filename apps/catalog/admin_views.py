"""Admin pages and actions beyond the change forms: import, publish (asking why), export."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.catalog import permissions as perms
from apps.catalog import services
from apps.catalog.exports import export_csv, export_xlsx
from apps.catalog.forms import ImportForm, PublishForm
from apps.catalog.imports import catalog_import, error_message
from apps.catalog.selectors import demand_dataset_search, published_snapshots
from apps.common import clock
from apps.departments.models import Department
from govdata.responsibility_list import ResponsibilityListError

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Results per page of the demand form's dataset search (as Django's own autocomplete).
DATASET_SEARCH_PAGE_SIZE = 20


@admin.action(description=gettext_lazy("Publish the selected datasets…"), permissions=["publish"])
def publish_action(model_admin, request, queryset):
    form = PublishForm(
        request.POST if "apply" in request.POST else None,
        initial={"_selected_action": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)},
    )
    if "apply" in request.POST and form.is_valid():
        for dataset in queryset:
            try:
                version = services.dataset_publish(
                    dataset=dataset, by=request.user, reason=form.cleaned_data["reason"]
                )
            except (ValidationError, PermissionDenied) as exc:
                text = "; ".join(getattr(exc, "messages", [str(exc)]))
                model_admin.message_user(request, f"{dataset.code}: {text}", level=messages.ERROR)
                continue
            model_admin.message_user(
                request,
                _("%(code)s published as version %(v)s.")
                % {"code": dataset.code, "v": version.version},
            )
        return None  # back to the change list, with the messages
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Publish datasets"),
        "datasets": queryset,
        "form": form,
        "opts": model_admin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/catalog/publish.html", context)


def _export_response(content: bytes, content_type: str, extension: str):
    # Named in the platform's local time, as the officer's clock shows it (not UTC).
    stamp = timezone.localtime(clock.now()).strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="responsibility-list-{stamp}.{extension}"'
    )
    return response


@admin.action(
    description=gettext_lazy("Export the published entries (.xlsx)"), permissions=["view"]
)
def export_xlsx_action(model_admin, request, queryset):
    snapshots = published_snapshots(dataset_ids=list(queryset.values_list("pk", flat=True)))
    return _export_response(export_xlsx(snapshots), XLSX_TYPE, "xlsx")


@admin.action(description=gettext_lazy("Export the published entries (CSV)"), permissions=["view"])
def export_csv_action(model_admin, request, queryset):
    snapshots = published_snapshots(dataset_ids=list(queryset.values_list("pk", flat=True)))
    return _export_response(export_csv(snapshots), "text/csv; charset=utf-8", "csv")


def import_view(model_admin):
    def view(request):
        user = request.user
        if perms.is_platform_admin(user):
            departments = Department.objects.all()
        else:
            departments = Department.objects.filter(pk__in=perms.officer_department_ids(user))
        if not departments.exists():
            raise PermissionDenied
        errors = []
        form = ImportForm(request.POST or None, request.FILES or None, departments=departments)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = catalog_import(
                    department=form.cleaned_data["department"],
                    file=upload,
                    filename=upload.name,
                    by=user,
                    reason=form.cleaned_data["reason"],
                    publish=form.cleaned_data["publish"],
                )
            except ResponsibilityListError as exc:
                errors = [
                    {
                        "sheet": e.sheet,
                        "row": e.row or "",
                        "column": e.column,
                        "message": error_message(e),
                    }  # fmt: skip
                    for e in exc.errors
                ]
            else:
                model_admin.message_user(
                    request,
                    _("Imported: %(c)s created, %(u)s updated, %(n)s unchanged, %(p)s published.")
                    % {
                        "c": len(result.created),
                        "u": len(result.updated),
                        "n": len(result.unchanged),
                        "p": len(result.published),
                    },
                )
                return HttpResponseRedirect(reverse("admin:catalog_dataset_changelist"))
        context = {
            **model_admin.admin_site.each_context(request),
            "title": _("Import a responsibility list"),
            "form": form,
            "errors": errors,
            "opts": model_admin.model._meta,
        }
        return TemplateResponse(request, "admin/catalog/import.html", context)

    return view


def demand_dataset_search_view(model_admin):
    """The demand form's dataset search (select2's JSON: results and whether more follow), for
    those who may file a demand; `provider` is the asked department's id, if chosen."""

    def view(request):
        if not model_admin.has_add_permission(request):
            raise PermissionDenied
        provider = request.GET.get("provider", "")
        datasets = demand_dataset_search(
            user=request.user,
            term=request.GET.get("term", ""),
            provider_id=int(provider) if provider.isascii() and provider.isdigit() else None,
        )
        page = Paginator(datasets, DATASET_SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
        return JsonResponse(
            {
                "results": [
                    {"id": str(d.pk), "text": f"{d} ({d.provider.name})", "provider": d.provider_id}
                    for d in page
                ],
                "pagination": {"more": page.has_next()},
            }
        )

    return view
