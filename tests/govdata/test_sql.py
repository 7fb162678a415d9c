"""The statement a SQL source runs (reads of real tables: tests/sync/test_sources.py)."""

from __future__ import annotations

from govdata.connectors.sql import build_query


def test_an_incremental_read_includes_the_last_watermark_value():
    query, params = build_query({"table": "people"}, '"', "updated_at", "2024-01-01")
    assert 'src."updated_at" >= %s' in query and params == ["2024-01-01"]


def test_a_full_read_has_no_parameters_so_a_percent_sign_stays_as_written():
    query, params = build_query({"query": "SELECT * FROM t WHERE a LIKE 'x%';"}, '"', None, None)
    assert (query, params) == ("SELECT * FROM t WHERE a LIKE 'x%'", None)


def test_a_wrapped_query_has_its_percent_signs_escaped_for_the_parameter():
    query, params = build_query({"query": "SELECT * FROM t WHERE a LIKE 'x%'"}, "`", "d", "1")
    assert "LIKE 'x%%'" in query and params == ["1"]
