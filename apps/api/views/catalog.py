"""The responsibility list: GET /catalog/ (paginated, filtered) and GET /catalog/{code}/ with
the caller's own access (fields readable now with their masking, and the grants relied on)."""

from __future__ import annotations

import base64

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers

from apps.api.auth import caller_for
from apps.api.permissions import SeesCatalogue
from apps.api.views.base import (
    ApiView,
    ChoiceQuery,
    json_response,
    page_link,
    problems,
    query_checked,
    query_problems,
)
from apps.catalog.models import Dataset, SharingTypeChoices
from apps.catalog.selectors import catalog_published, dataset_by_code
from apps.departments.selectors import department_code_exists
from apps.records.query import QueryInvalid, page_size_parse
from apps.sharing.policy import access_for

MAX_PAGE = 200
DEFAULT_PAGE = 50


class FieldOut(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    data_type = serializers.CharField()
    sensitivity = serializers.CharField()
    sharing_type = serializers.CharField()
    masking = serializers.CharField()
    conditions = serializers.CharField()
    legal_basis = serializers.CharField()
    required = serializers.BooleanField()
    description = serializers.CharField()


class ProviderOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DatasetOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    provider = ProviderOut()
    summary = serializers.CharField()
    category = serializers.CharField()
    key_field = serializers.CharField()
    sharing_type = serializers.CharField()
    conditions = serializers.CharField()
    legal_basis = serializers.CharField()
    update_frequency = serializers.CharField()
    version = serializers.IntegerField()
    published_at = serializers.DateTimeField(allow_null=True)
    fields = FieldOut(many=True)


class MyAccessOut(serializers.Serializer):
    is_owner = serializers.BooleanField()
    fields = serializers.DictField(child=serializers.CharField(), help_text="field -> masking")
    grants = serializers.ListField(child=serializers.IntegerField())
    rows = serializers.DictField(
        child=serializers.ListField(child=serializers.DictField()),
        help_text="field -> the row filters of the grants giving it, for a field readable on "
        "the rows matching one of them only (NULL on the others); absent: every row",
    )


class DatasetDetailOut(DatasetOut):
    my_access = MyAccessOut(allow_null=True)


class CatalogPageOut(serializers.Serializer):
    results = DatasetOut(many=True)
    next = serializers.CharField(allow_null=True)


def dataset_out(dataset: Dataset) -> dict:
    return {
        "code": dataset.code,
        "name": dataset.name,
        "provider": {"code": dataset.provider.code, "name": dataset.provider.name},
        "summary": dataset.summary,
        "category": dataset.category,
        "key_field": dataset.key_field,
        "sharing_type": dataset.sharing_type,
        "conditions": dataset.conditions,
        "legal_basis": dataset.legal_basis,
        "update_frequency": dataset.update_frequency,
        "version": dataset.version,
        "published_at": dataset.published_at,
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "data_type": f.data_type,
                "sensitivity": f.sensitivity,
                # The published attributes: what consumers are held to (drafts stay private).
                "sharing_type": f.published_sharing_type,
                "masking": f.published_masking,
                "conditions": f.conditions,
                "legal_basis": f.legal_basis,
                "required": f.required,
                "description": f.description,
            }
            for f in dataset.fields.all()
            if f.published_sharing_type is not None
        ],
    }


SHARING_TYPE = ChoiceQuery(
    "sharing_type", SharingTypeChoices.values, "Only datasets shared this way."
)
PARAMETERS = [
    OpenApiParameter(
        "provider",
        OpenApiTypes.STR,
        description="Department code (any case). A code no department has is a 400 whose "
        "`errors` names `provider`.",
    ),
    SHARING_TYPE.parameter,
    OpenApiParameter("q", OpenApiTypes.STR, description="Search text."),
    OpenApiParameter(
        "cursor",
        OpenApiTypes.STR,
        description="From the previous page's `next` (another value is a 400 whose `errors` "
        "names `cursor`).",
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": DEFAULT_PAGE},
        description=f"1 to {MAX_PAGE} (else a 400 whose `errors` names `page_size`).",
    ),
]


def page_size_of(raw: str | None) -> int:
    """As on record pages (apps.records.query.page_size_parse), up to MAX_PAGE."""
    try:
        return page_size_parse(raw, default=DEFAULT_PAGE, maximum=MAX_PAGE)
    except QueryInvalid as exc:
        raise exceptions.ValidationError({"page_size": [exc.message]}) from exc


def cursor_of(raw: str | None) -> str | None:
    """The code a page starts after, from the previous page's `next`."""
    if not raw:
        return None
    try:
        # validate: the lenient decoder skips what is not base64 at all.
        after = base64.b64decode(raw, altchars=b"-_", validate=True).decode()
        if "\x00" in after:  # PostgreSQL text cannot hold NUL (found by fuzzing)
            raise ValueError(after)
    except (ValueError, UnicodeDecodeError) as exc:
        message = _(
            "The cursor is not valid: use the “next” link of the previous page of this query."
        )
        raise exceptions.ValidationError({"cursor": [message]}) from exc
    return after


class CatalogListView(ApiView):
    permission_classes = [SeesCatalogue]  # scope `read` or `requests`

    @extend_schema(
        operation_id="catalog_list",
        summary=_("The responsibility list"),
        parameters=PARAMETERS,
        responses={200: CatalogPageOut, **query_problems(401, 403, 429)},
    )
    def get(self, request):
        params = request.query_params
        query_checked(params, known=[p.name for p in PARAMETERS])
        sharing_type = SHARING_TYPE.value(request)
        page_size = page_size_of(params.get("page_size"))
        after = cursor_of(params.get("cursor"))
        provider = params.get("provider") or None
        qs = catalog_published(
            provider=provider, sharing_type=sharing_type, q=params.get("q") or None
        )
        if after:
            qs = qs.filter(code__gt=after)
        datasets = list(qs[: page_size + 1])
        # Only an empty page can be a code no department has: asked only then, no query more
        # for every other page. An old code after a department's code changed is said to be
        # one, not answered as a department that publishes nothing.
        if not datasets and provider and not department_code_exists(code=provider):
            message = _("No department has the code “%(code)s”.") % {"code": provider}
            raise exceptions.ValidationError({"provider": [message]})
        next_cursor = None
        if len(datasets) > page_size:
            datasets = datasets[:page_size]
            next_cursor = base64.urlsafe_b64encode(datasets[-1].code.encode()).decode()
        return json_response(
            {
                "results": [dataset_out(d) for d in datasets],
                "next": page_link(request, next_cursor),
            }
        )


class CatalogDetailView(ApiView):
    permission_classes = [SeesCatalogue]  # scope `read` or `requests`

    @extend_schema(
        operation_id="catalog_retrieve",
        summary=_("One dataset, its fields, and what you may read of it now"),
        responses={200: DatasetDetailOut, **problems(401, 403, 404, 429)},
    )
    def get(self, request, code: str):
        try:
            dataset = dataset_by_code(code=code)
        except Dataset.DoesNotExist as exc:
            raise Http404(_("No published dataset with this code.")) from exc
        body = dataset_out(dataset)
        caller = caller_for(request)
        body["my_access"] = None
        if caller.department is not None:
            decision = access_for(dataset=dataset, department=caller.department)
            body["my_access"] = {
                "is_owner": decision.is_owner,
                "fields": {name: fa.mask for name, fa in decision.fields.items()},
                "grants": list(decision.grant_ids),
                "rows": {
                    name: list(fa.rows)
                    for name, fa in decision.fields.items()
                    if fa.rows is not None
                },
            }
        return json_response(body)
