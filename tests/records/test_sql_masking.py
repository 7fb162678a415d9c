"""The SQL masking expressions (apps.records.sql_masking) give, value for value, what the Python
maskers (govdata.masking) give: one query over a list of samples per rule, on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from psycopg2 import sql

from apps.records.sql_masking import masked_expression
from govdata.masking import make_masker
from tests.govdata.test_masking import ADDRESSES

SAMPLES: list[str | None] = [
    *(value for value, _expected in ADDRESSES),
    None,
    "",
    "张",
    "张三",
    "欧阳娜娜",
    "Zhang San",
    "a",
    "州",
    "市区",
    "某州市",
    "广州州市区",
    "天河区广州市",
    "天河区广州区",
    "广州Ａ市天河区",  # full-width letters are not in the street class (only ASCII ones)
    "广州市天河區",  # traditional 區 is no district character
    "广州市\n天河区",
    "广州市 天河区",
    "广州市天河区%s'_\\",  # characters with a meaning in SQL, LIKE or psycopg2 placeholders
    "内蒙古自治区呼和浩特市",
    "广东省广州市天河区" + "体育西路" * 200,
    "我" * 500,
    "1",
    "13800138000",
    "440106199001011234",
]


def sql_masked(rule: str, values: list[str | None]) -> list[str | None]:
    """`rule`'s SQL expression over `values`, one row each, in order."""
    expression = masked_expression(rule, sql.Identifier("v"), "string")
    rows = sql.SQL(", ").join(
        sql.SQL("({}::int, {}::text)").format(sql.Literal(i), sql.Literal(value))
        for i, value in enumerate(values)
    )
    query = sql.SQL("SELECT {} FROM (VALUES {}) AS samples(i, v) ORDER BY i").format(
        expression, rows
    )
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(cursor.connection))
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
@pytest.mark.parametrize("rule", ["address", "name", "mobile", "id_card", "bank_card"])
def test_sql_and_python_masks_agree_on_every_sample(rule):
    masker = make_masker(rule)
    got = sql_masked(rule, SAMPLES)
    assert list(zip(SAMPLES, got, strict=True)) == [(value, masker(value)) for value in SAMPLES]


@pytest.mark.django_db
def test_sql_address_mask_gives_the_documented_heads():
    values = [value for value, _expected in ADDRESSES]
    assert sql_masked("address", values) == [expected for _value, expected in ADDRESSES]


@pytest.mark.django_db
def test_sql_name_mask_hides_a_one_character_name_whole():
    assert sql_masked("name", ["张", "张三", "", None]) == ["*", "张*", "", None]
