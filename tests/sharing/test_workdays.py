"""Working-day arithmetic: weekends, public holidays and make-up working days (调休)."""

from __future__ import annotations

import datetime as dt

import pytest

from govdata.workdays import (
    HOLIDAY,
    WORKDAY,
    add_working_days,
    is_working_day,
    working_days_between,
)

D = dt.date

# 2025 National Day: 1-8 October off, Sunday 28 September and Saturday 11 October worked.
NATIONAL_DAY_2025 = {
    **{D(2025, 10, day): HOLIDAY for day in range(1, 9)},
    D(2025, 9, 28): WORKDAY,
    D(2025, 10, 11): WORKDAY,
}


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (D(2026, 3, 2), 0, D(2026, 3, 2)),  # zero days: the start itself
        (D(2026, 3, 2), 1, D(2026, 3, 3)),  # Monday -> Tuesday
        (D(2026, 3, 6), 1, D(2026, 3, 9)),  # Friday -> Monday, skipping the weekend
        (D(2026, 3, 7), 1, D(2026, 3, 9)),  # filed on Saturday -> Monday
        (D(2026, 3, 2), 10, D(2026, 3, 16)),  # two full weeks
        (D(2026, 3, 6), 10, D(2026, 3, 20)),
    ],
)
def test_add_working_days_skips_weekends(start, days, expected):
    assert add_working_days(start, days) == expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Friday 26 Sept: Sun 28 (make-up) is day 1, Mon 29 day 2, Tue 30 day 3,
        # 1-8 Oct off, Thu 9 day 4, Fri 10 day 5, Sat 11 (make-up) day 6, Mon 13..Thu 16 days 7-10.
        (D(2025, 9, 26), 10, D(2025, 10, 16)),
        (D(2025, 9, 26), 1, D(2025, 9, 28)),
        (D(2025, 9, 30), 1, D(2025, 10, 9)),
        (D(2025, 10, 10), 1, D(2025, 10, 11)),
    ],
)
def test_add_working_days_skips_holidays_and_counts_make_up_days(start, days, expected):
    assert add_working_days(start, days, NATIONAL_DAY_2025) == expected


def test_is_working_day_follows_the_calendar_over_the_weekday():
    assert not is_working_day(D(2025, 10, 1), NATIONAL_DAY_2025)  # a Wednesday off
    assert is_working_day(D(2025, 9, 28), NATIONAL_DAY_2025)  # a Sunday worked
    assert not is_working_day(D(2025, 9, 27), NATIONAL_DAY_2025)  # a plain Saturday
    assert is_working_day(D(2025, 9, 26), NATIONAL_DAY_2025)


def test_working_days_between_is_the_inverse_of_add():
    for days in range(0, 15):
        end = add_working_days(D(2025, 9, 25), days, NATIONAL_DAY_2025)
        assert working_days_between(D(2025, 9, 25), end, NATIONAL_DAY_2025) == days
    assert working_days_between(D(2026, 3, 16), D(2026, 3, 2)) == -10


def test_a_calendar_without_working_days_is_an_error_not_a_hang():
    closed = {D(2026, 1, 1) + dt.timedelta(days=n): HOLIDAY for n in range(400)}
    with pytest.raises(ValueError, match="no working day"):
        add_working_days(D(2026, 1, 1), 1, closed)
    with pytest.raises(ValueError):
        add_working_days(D(2026, 1, 1), -1)


@pytest.mark.django_db
def test_submitted_request_is_due_ten_working_days_later_using_the_holiday_table(sw):
    import time_machine

    from apps.sharing.models import Holiday
    from tests.sharing.conftest import SHANGHAI, submit

    Holiday.objects.bulk_create(
        [Holiday(date=day, kind=kind, name="国庆节") for day, kind in NATIONAL_DAY_2025.items()]
    )
    with time_machine.travel(dt.datetime(2025, 9, 26, 10, 0, tzinfo=SHANGHAI), tick=False):
        request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    assert request.due_by == D(2025, 10, 16)
