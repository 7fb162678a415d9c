"""Admin for data officers (own department only), auditors (everything, read-only) and platform
admins. Rights come from apps.catalog.permissions; writes go through apps.catalog.services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from apps.catalog import labels, services
from apps.catalog import permissions as perms
from apps.catalog.admin_views import (
    demand_dataset_search_view,
    export_csv_action,
    export_xlsx_action,
    import_view,
    publish_action,
)
from apps.catalog.forms import (
    DatasetForm,
    DemandAnswerForm,
    DemandDatasetSelect,
    DemandForm,
    FieldInlineForm,
    FieldInlineFormSet,
)
from apps.catalog.models import Dataset, DatasetVersion, Demand, Field
from apps.common.admin_mixins import ReadOnlyAdminMixin
from apps.departments.models import Department

# An officer sees their own department's rows only: a filter offers just the departments
# those rows name, not every department on the platform.
_ONLY_SHOWN = admin.RelatedOnlyFieldListFilter


def _is_catalog_user(user) -> bool:
    return bool(
        perms.is_platform_admin(user)
        or perms.is_catalog_auditor(user)
        or perms.officer_department_ids(user)
    )


class CatalogModelAdmin(admin.ModelAdmin):
    def has_module_permission(self, request) -> bool:
        return request.user.is_staff and _is_catalog_user(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)  # rows are narrowed by get_queryset


class FieldInline(admin.TabularInline):
    model = Field
    form = FieldInlineForm
    formset = FieldInlineFormSet
    extra = 0
    fields = ("position", "name", "label", "data_type", "sensitivity", "sharing_type",
              "masking", "legal_basis", "conditions", "required", "enum_values",
              "removal_note")  # fmt: skip
    readonly_fields = ("removal_note",)
    ordering = ("position", "id")

    class Media:
        css = {"all": ["catalog/fields.css"]}

    def has_view_permission(self, request, obj=None) -> bool:
        return _is_catalog_user(request.user)

    @admin.display(description=Field._meta.get_field("pending_removal").verbose_name)
    def removal_note(self, obj: Field) -> str:
        # Said only of a field that goes: a yes/no icon on every row read as a delete button.
        if not obj.pending_removal:
            return ""
        return format_html(
            '<span class="field-table-removal">{}</span>',
            capfirst(Field._meta.get_field("pending_removal").verbose_name),
        )

    def _can_change(self, request, obj) -> bool:
        if obj is None or obj.pk is None:
            return perms.is_platform_admin(request.user) or bool(
                perms.officer_department_ids(request.user)
            )
        return perms.has_dataset_perm(request.user, "change_dataset", obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._can_change(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._can_change(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._can_change(request, obj)


@admin.register(Dataset)
class DatasetAdmin(CatalogModelAdmin):
    list_display = ("code", "name", "provider", "sharing_type", "status", "version",
                    "has_unpublished_changes", "published_at")  # fmt: skip
    list_filter = ("status", "sharing_type", ("provider", _ONLY_SHOWN))
    search_fields = ("code", "name", "summary")
    readonly_fields = ("status", "version", "published_at", "has_unpublished_changes",
                       "created_at", "updated_at")  # fmt: skip
    inlines = [FieldInline]
    form = DatasetForm
    actions = [publish_action, export_xlsx_action, export_csv_action]
    change_list_template = "admin/catalog/dataset/change_list.html"

    def get_queryset(self, request):
        return perms.datasets_visible(request.user, super().get_queryset(request)).select_related(
            "provider"
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields + ["code", "provider"] if obj is not None else fields

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletion goes one draft at a time
        return actions

    def has_add_permission(self, request) -> bool:
        return perms.is_platform_admin(request.user) or bool(
            perms.officer_department_ids(request.user)
        )

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        return perms.has_dataset_perm(request.user, "change_dataset", obj)

    def has_publish_permission(self, request) -> bool:
        return self.has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        # A published entry is withdrawn by publishing, never deleted: consumers rely on it.
        if obj is None:
            return False
        return obj.version == 0 and perms.has_dataset_perm(request.user, "delete_dataset", obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "provider" and not perms.is_platform_admin(request.user):
            kwargs["queryset"] = Department.objects.filter(
                pk__in=perms.officer_department_ids(request.user)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            changed = [k for k in form.changed_data if k in services.DATASET_ATTRIBUTES]
            values = {k: form.cleaned_data[k] for k in changed}
            services.dataset_update(dataset=obj, by=request.user, check_fields=False, **values)
            return
        values = {k: form.cleaned_data[k] for k in services.DATASET_ATTRIBUTES if k in form.fields}
        created = services.dataset_create(
            by=request.user, provider=obj.provider, code=obj.code, **values
        )
        obj.pk, obj._state = created.pk, created._state

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not Field:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        dataset = form.instance
        by = request.user
        for field in formset.deleted_objects:
            field.dataset = dataset
            services.field_remove(field=field, by=by)
        for field, changed in formset.changed_objects:
            field.dataset = dataset
            values = {k: getattr(field, k) for k in changed if k in services.FIELD_ATTRIBUTES}
            services.field_update(field=field, by=by, **values)
        for field in formset.new_objects:
            values = {k: getattr(field, k) for k in services.FIELD_ATTRIBUTES}
            services.field_create(dataset=dataset, by=by, name=field.name, **values)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        form.instance.refresh_from_db()
        # The formset already checked this; a failure here means a bug, and the admin's
        # transaction rolls the whole change back.
        services.dataset_check(dataset=form.instance)

    def delete_model(self, request, obj) -> None:
        perms.require_dataset_perm(request.user, "delete_dataset", obj)
        if obj.version:
            raise PermissionDenied(_("A published dataset cannot be deleted."))
        obj.delete()

    def get_urls(self):
        custom = [
            path(
                "import/",
                self.admin_site.admin_view(import_view(self)),
                name="catalog_dataset_import",
            )
        ]
        return custom + super().get_urls()


@admin.register(DatasetVersion)
class DatasetVersionAdmin(ReadOnlyAdminMixin, CatalogModelAdmin):
    list_display = ("dataset", "version", "published_by", "published_at", "reason")
    # Only the datasets of the versions the viewer may see (get_queryset), not every dataset.
    list_filter = (("dataset", _ONLY_SHOWN), ("dataset__provider", _ONLY_SHOWN))
    search_fields = ("dataset__code", "dataset__name", "reason")
    # The stored JSON holds codes ("conditional", "id_card"): shown in the forms' words.
    fields = ("dataset", "version", "reason", "published_by", "published_at", "changes_table",
              "snapshot_table")  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        visible = perms.datasets_visible(request.user).values("pk")
        return (
            super()
            .get_queryset(request)
            .filter(dataset_id__in=visible)
            .select_related("dataset", "published_by")
        )

    @admin.display(description=_("changes from the previous version"))
    def changes_table(self, obj: DatasetVersion) -> str:
        rows = labels.version_change_rows(obj.changes or [])
        return render_to_string("admin/catalog/datasetversion/changes.html", {"rows": rows})

    @admin.display(description=_("snapshot"))
    def snapshot_table(self, obj: DatasetVersion) -> str:
        table = labels.snapshot_table(obj.snapshot or {})
        return render_to_string("admin/catalog/datasetversion/snapshot.html", {"table": table})


class DemandDirectionFilter(admin.SimpleListFilter):
    """Demands asked of the viewer's departments, or filed by them (the to-do list links to
    the first, open ones: apps.catalog.worklist); not offered to viewers without a department.
    The departments one is an officer of, if any, as the to-do list counts them."""

    title = _("direction")
    parameter_name = "direction"

    @staticmethod
    def _departments(user) -> set[int]:
        return perms.officer_department_ids(user) or perms.member_department_ids(user)

    def lookups(self, request, model_admin):
        if not self._departments(request.user):
            return []
        return [("incoming", _("Asked of us")), ("outgoing", _("Filed by us"))]

    def queryset(self, request, queryset):
        ids = self._departments(request.user)
        if self.value() == "incoming":
            return queryset.filter(provider_id__in=ids)
        if self.value() == "outgoing":
            return queryset.filter(requester_id__in=ids)
        return queryset


@admin.register(Demand)
class DemandAdmin(CatalogModelAdmin):
    list_display = ("title", "requester", "provider", "dataset", "status", "created_at")
    list_filter = (DemandDirectionFilter, "status", ("provider", _ONLY_SHOWN),
                   ("requester", _ONLY_SHOWN))  # fmt: skip
    search_fields = ("title", "description")
    form = DemandForm

    def get_queryset(self, request):
        qs = perms.demands_visible(request.user, super().get_queryset(request))
        return qs.select_related("requester", "provider", "dataset__provider")

    def get_object(self, request, object_id, from_field=None):
        demand = super().get_object(request, object_id, from_field)
        if demand is not None and demand.dataset is not None:
            # For dataset_shown, which is given the demand only.
            demand.dataset_openable = perms.can_open_dataset(request.user, demand.dataset)
        return demand

    @admin.display(description=Demand._meta.get_field("dataset").verbose_name)
    def dataset_shown(self, obj: Demand) -> str:
        """The dataset with its department; a link only for those who may open its page: the
        requesting department's officer would be told it does not exist."""
        dataset = obj.dataset
        if dataset is None:
            return self.get_empty_value_display()
        text = f"{dataset} ({dataset.provider.name})"
        if not getattr(obj, "dataset_openable", False):
            return text
        url = reverse(
            "admin:catalog_dataset_change", args=[dataset.pk], current_app=self.admin_site.name
        )
        return format_html('<a href="{}">{}</a>', url, text)

    # What the requesting officer writes; the service sets the rest (status, who, when).
    add_fields = ("requester", "provider", "dataset", "title", "description", "fields_wanted",
                  "legal_basis")  # fmt: skip
    # Shown on an existing demand; the asked department writes only the answer, and says
    # whether it closes the demand (DemandAnswerForm): the status follows from that.
    shown_fields = ("requester", "provider", "dataset_shown", "title", "description",
                    "fields_wanted", "legal_basis", "status", "created_by", "created_at",
                    "answered_by", "answered_at", "answer")  # fmt: skip

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["form"] = DemandAnswerForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.add_fields
        if self.has_change_permission(request, obj):
            return (*self.shown_fields, "close")
        return self.shown_fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return [name for name in self.shown_fields if name != "answer"]

    def has_add_permission(self, request) -> bool:
        return bool(perms.officer_department_ids(request.user)) or perms.is_platform_admin(
            request.user
        )

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        if obj.status == Demand.Status.CLOSED:
            return False  # settled: shown read-only (services.DemandClosed)
        return perms.has_demand_perm(request.user, "change_demand", obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return perms.is_platform_admin(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        choices = {
            "requester": perms.demand_requester_choices,
            "provider": perms.demand_provider_choices,
            "dataset": perms.demand_dataset_choices,
        }.get(db_field.name)
        if choices is not None:
            kwargs["queryset"] = choices(request.user)
        if db_field.name == "dataset":
            kwargs["widget"] = DemandDatasetSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        widget = getattr(formfield, "widget", None)
        if db_field.name == "dataset" and isinstance(widget, RelatedFieldWidgetWrapper):
            # No change, view or add links: the datasets offered are other departments', whose
            # pages the officer may not open, and one added here would be their own department's,
            # which a demand never names.
            widget.can_add_related = widget.can_change_related = False
            widget.can_view_related = widget.can_delete_related = False
        return formfield

    def get_urls(self):
        search = path(
            "dataset-search/",
            self.admin_site.admin_view(demand_dataset_search_view(self)),
            name="catalog_demand_dataset_search",
        )
        return [search, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Closed by a colleague while this officer was writing: say so, rather than a bare 403.
        if request.method == "POST":
            demand = self.get_object(request, unquote(object_id))
            if (
                demand is not None
                and demand.status == Demand.Status.CLOSED
                and perms.has_demand_perm(request.user, "change_demand", demand)
            ):
                self.message_user(
                    request,
                    _("The demand “%(title)s” is closed; it can no longer be answered or reopened.")
                    % {"title": demand.title},
                    level=messages.ERROR,
                )
                return HttpResponseRedirect(request.path)
        # An answer page: "save and add another" would open a demand of one's own instead.
        extra_context = {**(extra_context or {}), "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            answered = services.demand_answer(
                demand=obj,
                by=request.user,
                answer=form.cleaned_data["answer"],
                close=form.cleaned_data["close"],
            )
            obj.status = answered.status
            return
        created = services.demand_create(
            by=request.user,
            requester=obj.requester,
            provider=obj.provider,
            dataset=obj.dataset,
            title=obj.title,
            description=obj.description,
            fields_wanted=obj.fields_wanted,
            legal_basis=obj.legal_basis,
        )
        obj.pk, obj._state = created.pk, created._state
