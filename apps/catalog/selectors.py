"""Reads of the responsibility list. Each returns a queryset that costs a constant number of
queries however many datasets and fields it holds (fields are prefetched)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from apps.catalog import permissions as perms
from apps.catalog.models import Dataset, DatasetVersion, Demand, Field
from apps.catalog.versioning import snapshot_of


def _live_fields() -> Prefetch:
    # A field awaiting removal is still published until the next publication.
    return Prefetch("fields", queryset=Field.objects.order_by("position", "id"))


def catalog_published(
    *, provider: str | None = None, sharing_type: str | None = None, q: str | None = None
) -> QuerySet[Dataset]:
    """The published list; `provider` is a department code, `q` searches codes, names,
    summaries and field labels."""
    qs = Dataset.objects.filter(status=Dataset.Status.PUBLISHED)
    if provider:
        qs = qs.filter(provider__code__iexact=provider)  # codes are written upper-case
    if sharing_type:
        qs = qs.filter(sharing_type=sharing_type)
    if q:
        matching_fields = Field.objects.filter(Q(label__icontains=q) | Q(name__icontains=q))
        qs = qs.filter(
            Q(code__icontains=q)
            | Q(name__icontains=q)
            | Q(summary__icontains=q)
            | Q(category__icontains=q)
            | Q(pk__in=matching_fields.values("dataset_id"))
        )
    return qs.select_related("provider").prefetch_related(_live_fields()).order_by("code")


def dataset_by_code(*, code: str, published_only: bool = True) -> Dataset:
    """Raises Dataset.DoesNotExist for an unknown (or, by default, unpublished) code."""
    qs = Dataset.objects.select_related("provider").prefetch_related(_live_fields())
    if published_only:
        qs = qs.filter(status=Dataset.Status.PUBLISHED)
    return qs.get(code=code)


def datasets_for_user(*, user: AbstractBaseUser) -> QuerySet[Dataset]:
    """What the admin lists: own department's datasets for officers, all for auditors/admins."""
    return perms.datasets_visible(user).select_related("provider")


def published_snapshots(
    *, provider_ids: list[int] | None = None, dataset_ids: list[int] | None = None
) -> list[dict]:
    """The published entries as last published (not the working copy an officer may be
    editing), in two queries. A dataset published without a recorded version (loaded by a
    fixture) is read from its rows."""
    latest = DatasetVersion.objects.filter(dataset=OuterRef("pk")).order_by("-version")
    qs = catalog_published().annotate(published_snapshot=Subquery(latest.values("snapshot")[:1]))
    if provider_ids is not None:
        qs = qs.filter(provider_id__in=provider_ids)
    if dataset_ids is not None:
        qs = qs.filter(pk__in=dataset_ids)
    return [
        d.published_snapshot or snapshot_of(d, [f for f in d.fields.all() if not f.pending_removal])
        for d in qs
    ]


def dataset_versions(*, dataset: Dataset) -> QuerySet[DatasetVersion]:
    return dataset.versions.select_related("published_by").order_by("-version")


def dataset_version(*, dataset: Dataset, version: int) -> DatasetVersion:
    return dataset.versions.select_related("published_by").get(version=version)


def demands_for_user(*, user: AbstractBaseUser) -> QuerySet[Demand]:
    return perms.demands_visible(user).select_related("requester", "provider", "dataset")


def demand_dataset_search(
    *, user: AbstractBaseUser, term: str = "", provider_id: int | None = None
) -> QuerySet[Dataset]:
    """The datasets a demand filed by `user` may name (permissions.demand_dataset_choices)
    whose code or name, or their department's name or code, holds every word of `term` ("卫生
    疫苗"), of the asked department `provider_id` once one is chosen: the demand form's search,
    as the platform lists hundreds of datasets."""
    qs = perms.demand_dataset_choices(user)
    if provider_id is not None:
        qs = qs.filter(provider_id=provider_id)
    for word in term.split():
        qs = qs.filter(
            Q(code__icontains=word)
            | Q(name__icontains=word)
            | Q(provider__name__icontains=word)
            | Q(provider__code__icontains=word)
        )
    return qs.select_related("provider").order_by("code", "pk")
