"""Reads about objections. List selectors cost a constant number of queries however many
objections and fields they hold (departments and datasets joined, fields prefetched)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import ProgrammingError, connection, transaction
from django.db.models import Prefetch, Q, QuerySet
from psycopg2 import errors, sql

from apps.catalog.models import Dataset
from apps.catalog.selectors import catalog_published
from apps.objections import policy
from apps.objections.models import Objection, ObjectionField
from apps.records.query import record_query_build
from apps.records.query_values import parse_value
from apps.sharing.policy import AccessDecision, accessible_fields_for_catalog


def _with_relations(qs: QuerySet[Objection]) -> QuerySet[Objection]:
    items = ObjectionField.objects.select_related("field").order_by("field__position", "field_id")
    return qs.select_related("consumer", "dataset", "dataset__provider").prefetch_related(
        Prefetch("items", queryset=items)
    )


def objections_visible(
    *, department_ids: Iterable[int], everything: bool = False
) -> QuerySet[Objection]:
    """Objections where one of `department_ids` provides the dataset or reported; every
    objection when `everything` (platform auditors)."""
    qs = _with_relations(Objection.objects.all())
    if everything:
        return qs
    ids = list(department_ids)
    return qs.filter(Q(consumer_id__in=ids) | Q(dataset__provider_id__in=ids))


def objections_visible_to(*, user) -> QuerySet[Objection]:
    """What the admin lists for `user`: its departments' objections, as provider or reporter
    (officers and department auditors), or all of them (platform auditors)."""
    return objections_visible(
        department_ids=policy.viewer_department_ids(user=user),
        everything=policy.may_view_all_objections(user=user),
    )


def objections_incoming(*, department) -> QuerySet[Objection]:
    """The provider's queue: open objections to its data, the most urgent first."""
    return _with_relations(
        Objection.objects.filter(dataset__provider=department, status=Objection.Status.OPEN)
    ).order_by("due_by", "id")


def objection_targets(*, department) -> list[tuple[Dataset, AccessDecision]]:
    """The published datasets of other departments on which `department` may report, with its
    access decision: those whose key field it reads in clear (it cannot name a record
    otherwise). Three queries whatever the size of the catalogue."""
    datasets = list(catalog_published().exclude(provider_id=department.pk))
    decisions = accessible_fields_for_catalog(datasets=datasets, department=department)
    return [(d, decisions[d.pk]) for d in datasets if decisions[d.pk].clear(d.key_field)]


def record_key_exists(
    *, dataset: Dataset, decision: AccessDecision, key: str, fields: Sequence[str] = ()
) -> bool:
    """Whether a published record of `dataset` has the key `key` among the rows `decision`
    lets its department read with the key and `fields` (the row filters of the grants giving
    them hold): one query against the store.
    The key field must be readable in clear (the caller checks); raises
    apps.records.query_values.QueryInvalid for a key that is not of the key field's type. A
    dataset whose records were never loaded has no record at all."""
    query = record_query_build(
        dataset=dataset,
        decision=decision,
        params={"fields": dataset.key_field},
        uses=[dataset.key_field, *fields],
    )
    value = parse_value(key, query.data_types[dataset.key_field], dataset.key_field)
    where = [sql.SQL("{} = %s").format(sql.Identifier(dataset.key_field)), *query.where]
    statement = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {})").format(
        query.table, sql.SQL(" AND ").join(where)
    )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [value, *query.params])
            return bool(cursor.fetchone()[0])
    except ProgrammingError as exc:
        if not isinstance(exc.__cause__, errors.UndefinedTable):
            raise
        return False  # no live table yet: nothing was ever synchronised
