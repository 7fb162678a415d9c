"""Reads: who sees which objections, on which datasets a department may report, and the key
check against the store, each in a constant number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog.selectors import dataset_by_code
from apps.objections.selectors import (
    objection_targets,
    objections_incoming,
    objections_visible_to,
    record_key_exists,
)
from apps.objections.services import objection_withdraw
from apps.sharing.policy import access_for
from tests.objections.conftest import KEY, report

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "count"),
    [("provider_officer", 2), ("consumer_officer", 2), ("outsider_officer", 0),
     ("provider_auditor", 2), ("platform_auditor", 2)],
)  # fmt: skip
def test_objections_are_visible_to_both_sides_and_their_auditors(ow, role, count):
    report(ow)
    report(ow, fields=["mobile"])
    assert objections_visible_to(user=getattr(ow, role)).count() == count


def test_the_providers_queue_holds_open_objections_most_urgent_first(ow):
    first, second = report(ow), report(ow)
    objection_withdraw(objection=first, by=ow.consumer_officer)
    assert [o.pk for o in objections_incoming(department=ow.provider)] == [second.pk]
    assert not objections_incoming(department=ow.consumer).exists()


def _list_queries(user) -> int:
    user.__dict__.pop("_govdata_department_ids", None)  # as on a fresh request
    with CaptureQueriesContext(connection) as queries:
        rows = list(objections_visible_to(user=user))
        for o in rows:
            assert o.dataset.provider.code and o.consumer.code
            assert [i.field.name for i in o.items.all()]
    return len(queries)


def test_listing_costs_the_same_queries_for_one_objection_or_many(ow):
    report(ow)
    one = _list_queries(ow.provider_officer)
    for _n in range(5):
        report(ow, fields=["name", "mobile", "birth_date"])
    assert _list_queries(ow.provider_officer) == one <= 4


def test_a_department_may_report_on_datasets_whose_key_it_reads_in_clear(ow):
    assert [d.code for d, _decision in objection_targets(department=ow.consumer)] == ["GA-RK-001"]
    assert objection_targets(department=ow.outsider) == []  # key not readable
    assert objection_targets(department=ow.provider) == []  # its own data


def test_finding_the_targets_costs_a_constant_number_of_queries(ow, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        objection_targets(department=ow.consumer)


def test_the_key_is_checked_with_one_query_against_the_store(ow):
    dataset = dataset_by_code(code="GA-RK-001")  # fields loaded, as the services get it
    decision = access_for(dataset=dataset, department=ow.consumer)
    with CaptureQueriesContext(connection) as queries:
        assert record_key_exists(dataset=dataset, decision=decision, key=KEY)
        assert not record_key_exists(dataset=dataset, decision=decision, key="1" * 18)
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 2 and all('"records"' in s for s in statements)  # one per check
