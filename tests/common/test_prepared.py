"""Prepared statements: one query per call whether or not the statement was prepared before on
this server session, the same results as a plain execute, and recovery when the session's
statements are not what we remember."""

import pytest
from django.db import DatabaseError, connection, connections, transaction

from apps.common import prepared
from apps.common.prepared import _numbered, execute_prepared

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_statements_prepared():
    """The test connection outlives a test: start each with nothing prepared on it."""
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connections["default"].__dict__.pop("_govdata_prepared", None)


STATEMENT = "SELECT %(a)s::int + %(b)s::int, %(a)s::int * 2, '100%%'"


def _server_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _run(statement=STATEMENT, params=None):
    with connection.cursor() as cursor:
        execute_prepared(cursor, statement, params if params is not None else {"a": 2, "b": 5})
        return cursor.fetchall()


def test_placeholders_are_numbered_once_per_name_and_escaped_percents_kept():
    text, values = _numbered(STATEMENT, {"a": 2, "b": 5, "unused": 9})
    assert text == "SELECT $1::int + $2::int, $1::int * 2, '100%%'"
    assert values == [2, 5]
    text, values = _numbered("SELECT %s, %s", ["x", "y"])
    assert (text, values) == ("SELECT $1, $2", ["x", "y"])


@pytest.mark.parametrize(
    ("statement", "params", "error"),
    [
        ("SELECT %(a)s, %s", {"a": 1}, ValueError),  # both kinds: refused, not bound twice
        ("SELECT %s, %(a)s", [1, 2], ValueError),
        ("SELECT %s", {"a": 1}, TypeError),
        ("SELECT %(a)s", [1], TypeError),
        ("SELECT %s, %s", [1], IndexError),
        ("SELECT %(a)s, %(b)s", {"a": 1}, KeyError),
    ],
)
def test_placeholders_and_values_that_do_not_fit_are_refused_before_anything_is_sent(
    statement, params, error
):
    for _ in range(2):  # the numbering is cached per text: the second call checks again
        with pytest.raises(error):
            _numbered(statement, params)
    assert _server_statements() == []


def test_first_call_prepares_and_runs_in_one_query_later_calls_only_run(
    django_assert_num_queries,
):
    with django_assert_num_queries(1) as first:
        assert _run() == [(7, 4, "100%")]
    assert "PREPARE" in first.captured_queries[0]["sql"]
    with django_assert_num_queries(1) as second:
        assert _run(params={"a": 10, "b": 1}) == [(11, 20, "100%")]
    assert second.captured_queries[0]["sql"].startswith("EXECUTE ")
    assert sum("100%" in s for s in _server_statements()) == 1


def test_results_equal_a_plain_execute_for_positional_parameters():
    statement = "SELECT %s::text || %s::text"
    with connection.cursor() as cursor:
        cursor.execute(statement, ["ab", "cd"])
        plain = cursor.fetchall()
    assert _run(statement, ["ab", "cd"]) == plain == [("abcd",)]


@pytest.mark.django_db(transaction=True)
def test_a_new_server_session_prepares_again():
    _run()
    connection.close()
    assert _run() == [(7, 4, "100%")]


def test_a_failed_first_call_leaves_the_next_call_working():
    statement = "SELECT 10 / %(d)s::int"
    with pytest.raises(DatabaseError), transaction.atomic():
        _run(statement, {"d": 0})
    assert _run(statement, {"d": 5}) == [(2,)]


def _server_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return cursor.fetchone()[0]


SLOW_OR_FAILING = "SELECT 10 / %(d)s::int FROM pg_sleep(%(s)s)"


@pytest.mark.parametrize(
    "params",
    [{"d": 0, "s": 0}, {"d": 1, "s": 5}],
    ids=["a failed read", "a statement timeout"],
)
def test_first_calls_that_keep_failing_after_the_prepare_leave_no_statements_behind(
    params, django_assert_num_queries
):
    for _ in range(5):
        with pytest.raises(DatabaseError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = '100ms'")
            _run(SLOW_OR_FAILING, params)
        assert _server_count() <= 1  # at most the last attempt's, not one per attempt
    with django_assert_num_queries(1):  # the cleanup rides in the next PREPARE's round trip
        assert _run(SLOW_OR_FAILING, {"d": 5, "s": 0}) == [(2,)]
    assert _server_count() == 1
    with django_assert_num_queries(1) as again:
        assert _run(SLOW_OR_FAILING, {"d": 2, "s": 0}) == [(5,)]
    assert again.captured_queries[0]["sql"].startswith("EXECUTE ")


def test_failed_first_calls_count_towards_the_limit_even_when_starting_over_fails(monkeypatch):
    monkeypatch.setattr(prepared, "MAX_PER_CONNECTION", 2)
    _run("SELECT 1 + %(a)s::int + %(b)s::int")
    _run("SELECT 2 + %(a)s::int + %(b)s::int")
    for _ in range(4):  # each attempt drops everything, prepares, then fails in its EXECUTE
        with pytest.raises(DatabaseError), transaction.atomic():
            _run(SLOW_OR_FAILING, {"d": 0, "s": 0})
        assert _server_count() <= 2
    assert _run("SELECT 1 + %(a)s::int + %(b)s::int") == [(8,)]
    assert _run(SLOW_OR_FAILING, {"d": 5, "s": 0}) == [(2,)]
    assert _server_count() <= 2


def test_a_statement_whose_result_type_changed_is_dropped_not_left_behind():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE shape (a int)")
    _run("SELECT * FROM shape", [])
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE shape ADD COLUMN b int")
    with pytest.raises(DatabaseError, match="result type"), transaction.atomic():
        _run("SELECT * FROM shape", [])  # the statement is still prepared, but unusable
    assert _run("SELECT * FROM shape", []) == []
    assert sum("shape" in s for s in _server_statements()) == 1


def test_a_statement_dropped_behind_our_back_fails_once_then_is_prepared_again():
    _run()
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with pytest.raises(DatabaseError), transaction.atomic():
        _run()
    assert _run() == [(7, 4, "100%")]


def test_past_the_limit_the_session_starts_over(monkeypatch):
    monkeypatch.setattr(prepared, "MAX_PER_CONNECTION", 2)
    for n in range(3):
        assert _run(f"SELECT {n} + %(a)s::int + %(b)s::int") == [(n + 7,)]
    assert len(_server_statements()) == 1


def test_switched_off_it_is_a_plain_execute(settings, django_assert_num_queries):
    settings.GOVDATA = {**settings.GOVDATA, "PREPARED_STATEMENTS": False}
    with django_assert_num_queries(1) as queries:
        assert _run() == [(7, 4, "100%")]
    assert not queries.captured_queries[0]["sql"].startswith(("PREPARE", "EXECUTE"))
    assert _server_statements() == []


def test_calls_sharing_one_round_trip_are_each_prepared_once(django_assert_num_queries):
    from apps.common.prepared import prepared_call

    def both(a: int, b: str):
        with connection.cursor() as cursor:
            first = prepared_call(cursor, "SELECT %s::int + 1", [a])
            second = prepared_call(cursor, "SELECT %s::text || 'x'", [b])
            cursor.execute(f"{first.sql}; {second.sql}", [*first.values, *second.values])
            first.done()
            second.done()
            return cursor.fetchall(), first.sql, second.sql

    with django_assert_num_queries(1):
        rows, first_sql, second_sql = both(1, "a")
    assert rows == [("ax",)] and "PREPARE" in first_sql and "PREPARE" in second_sql
    rows, first_sql, second_sql = both(2, "b")
    assert rows == [("bx",)]
    assert first_sql.startswith("EXECUTE ") and second_sql.startswith("EXECUTE ")
    assert len(_server_statements()) == 2


def test_a_failed_shared_round_trip_prepares_afresh_next_time():
    from apps.common.prepared import prepared_call

    with connection.cursor() as cursor:
        call = prepared_call(cursor, "SELECT 1 / %s::int", [0])
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute(call.sql, call.values)
        call.failed()
        retry = prepared_call(cursor, "SELECT 1 / %s::int", [1])
        assert "PREPARE" in retry.sql  # never remembered: the first attempt's name is not reused
        cursor.execute(retry.sql, retry.values)
        retry.done()
        assert cursor.fetchone() == (1,)


def test_a_shared_round_trip_that_keeps_failing_leaves_its_statements_bounded():
    from apps.common.prepared import prepared_call

    def both(divisor: int):
        with connection.cursor() as cursor:
            first = prepared_call(cursor, "SELECT %s::int + 1", [1])
            second = prepared_call(cursor, "SELECT 1 / %s::int", [divisor])
            try:
                cursor.execute(f"{first.sql}; {second.sql}", [*first.values, *second.values])
            except DatabaseError as exc:
                first.failed(exc)
                second.failed(exc)
                raise
            first.done()
            second.done()
            return cursor.fetchall()

    for _ in range(5):
        with pytest.raises(DatabaseError), transaction.atomic():
            both(0)
        assert _server_count() <= 2  # the last attempt's two, not two per attempt
    assert both(1) == [(1,)]
    assert _server_count() == 2
