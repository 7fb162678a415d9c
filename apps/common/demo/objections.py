"""The demo world's data-quality objections: the health commission reports a name it believes
wrong (left open for the provider to answer), civil affairs an address the provider has since
corrected. Each is found again by reporter, dataset and description, so a second load changes
nothing."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from psycopg2 import sql

from apps.catalog.selectors import dataset_by_code
from apps.common.demo.loader import LoadReport, officer_username
from apps.departments.models import Department
from apps.records import store

DEMO_OBJECTIONS: list[dict[str, Any]] = [
    {
        "dataset": "GA-RK-001",
        "consumer": "GD-WJ",
        "row": 0,  # the record with the smallest key
        "fields": ["name"],
        "description": "疫苗接种预约核验时发现姓名与本人出示的身份证件不一致。",
        "proposed_value": "",
        "answer": None,
    },
    {
        "dataset": "GA-RK-001",
        "consumer": "GD-MZ",
        "row": 1,
        "fields": ["address"],
        "description": "低保入户核查时发现申请人已迁居，户籍登记的住址仍为旧址。",
        "proposed_value": "",
        "answer": ("corrected", "经核实，已按申请人最新户籍迁移登记更正住址。"),
    },
]


def _key(dataset, row: int) -> str | None:
    statement = sql.SQL("SELECT {key}::text FROM {table} ORDER BY {key} OFFSET %s LIMIT 1").format(
        key=sql.Identifier(dataset.key_field), table=store.ident(store.live_table(dataset.pk))
    )
    with connection.cursor() as cursor:
        if not store.table_exists(cursor, store.live_table(dataset.pk)):
            return None
        cursor.execute(statement, [row])
        found = cursor.fetchone()
    return found[0] if found else None


@transaction.atomic
def objections_load(*, departments: dict[str, Department], report: LoadReport) -> None:
    """Reports each demo objection as the consumer's officer (after grants_load: it must read
    the fields) and answers it as the provider's where the demo says so."""
    from apps.objections.models import Objection
    from apps.objections.services import objection_answer, objection_submit

    User = get_user_model()
    for entry in DEMO_OBJECTIONS:
        dataset = dataset_by_code(code=entry["dataset"])
        consumer = departments[entry["consumer"]]
        if Objection.objects.filter(
            consumer=consumer, dataset=dataset, description=entry["description"]
        ).exists():
            continue
        key = _key(dataset, entry["row"])
        if key is None:
            continue
        objection = objection_submit(
            consumer=consumer,
            dataset=dataset,
            key=key,
            fields=entry["fields"],
            description=entry["description"],
            proposed_value=entry["proposed_value"],
            by=User.objects.get(username=officer_username(consumer.code)),
        )
        if entry["answer"]:
            outcome, text = entry["answer"]
            objection_answer(
                objection=objection,
                outcome=outcome,
                answer=text,
                by=User.objects.get(username=officer_username(dataset.provider.code)),
            )
        report.note(f"objection {consumer.code} -> {dataset.code}")
