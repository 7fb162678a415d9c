"""Working-day arithmetic (工作日): weekends, public holidays and make-up working days (调休).

Pure: the holiday calendar is passed in as a mapping ``date -> kind`` where kind is
``"holiday"`` (a weekday off) or ``"workday"`` (a weekend day worked to make up for a holiday).
Dates missing from the calendar follow the plain rule: Monday to Friday are working days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

HOLIDAY = "holiday"
WORKDAY = "workday"

Calendar = Mapping[dt.date, str]

# Longest stretch without a working day we accept before deciding the calendar is broken;
# the longest Chinese public holiday with its weekends is 9 days.
_MAX_GAP_DAYS = 60


def is_working_day(day: dt.date, calendar: Calendar | None = None) -> bool:
    kind = (calendar or {}).get(day)
    if kind == WORKDAY:
        return True
    if kind == HOLIDAY:
        return False
    return day.weekday() < 5


def add_working_days(start: dt.date, days: int, calendar: Calendar | None = None) -> dt.date:
    """The `days`-th working day after `start` (`start` itself is not counted, so a request
    filed on a Friday evening still gets ten full working days). ``days == 0`` returns `start`."""
    if days < 0:
        raise ValueError("days must not be negative")
    current, counted, gap = start, 0, 0
    while counted < days:
        current += dt.timedelta(days=1)
        if is_working_day(current, calendar):
            counted += 1
            gap = 0
        else:
            gap += 1
            if gap > _MAX_GAP_DAYS:
                raise ValueError("the holiday calendar leaves no working day for 60 days")
    return current


def working_days_between(start: dt.date, end: dt.date, calendar: Calendar | None = None) -> int:
    """Working days in the half-open range (start, end]; negative when `end` is before `start`."""
    if end < start:
        return -working_days_between(end, start, calendar)
    count, current = 0, start
    while current < end:
        current += dt.timedelta(days=1)
        if is_working_day(current, calendar):
            count += 1
    return count


def calendar_window(start: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """A date range wide enough to hold `days` working days after `start` in any real calendar;
    callers load the holiday rows of this range only."""
    return start, start + dt.timedelta(days=days * 2 + _MAX_GAP_DAYS)
