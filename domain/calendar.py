"""China time and working days: the one definition the aggregates and services share.

China time is a fixed UTC+8 offset, not ``ZoneInfo("Asia/Shanghai")``: China has kept one
offset with no daylight saving since 1991, so the two agree on every date the bank handles,
and the fixed offset needs no tz database on the host (tzdata is absent on slim images and
Windows) and is cheaper on the data access path, which converts the time of every metered
request.

Working days are Monday to Friday, minus public holidays, plus the weekend days declared working
days to make up for them (调休). Both lists change every year (the State Council announces the
next year's in November), so they are data: a ``HolidayCalendar`` the settings load from a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))


def china_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in Lu'an (UTC+8); ``moment`` must carry a timezone (a
    naive time would silently be read as the host's local time)."""
    if moment.tzinfo is None:
        raise ValueError("a moment needs a timezone to have a date in China time")
    return moment.astimezone(CHINA).date()


@dataclass(frozen=True)
class HolidayCalendar:
    """Public holidays and 调休 make-up working days (weekend days that are working days).

    :param holidays: days off that would otherwise be working days (weekend days in a holiday
        period may be listed too: they are days off either way)
    :param workdays: Saturdays and Sundays declared working days
    """

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        both = self.holidays & self.workdays
        if both:
            raise ValueError(f"{min(both).isoformat()} is listed both as a holiday and a workday")
        weekday = next((day for day in self.workdays if day.weekday() < 5), None)
        if weekday is not None:
            raise ValueError(f"make-up workday {weekday.isoformat()} is not a Saturday or Sunday")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> "HolidayCalendar":
        """From ``{"holidays": ["2026-10-01", ...], "workdays": ["2026-09-20", ...]}`` (as read
        from JSON); other keys, such as the source of the dates, are ignored."""
        return cls(holidays=_dates(data.get("holidays", ()), "holidays"),
                   workdays=_dates(data.get("workdays", ()), "workdays"))

    def is_working_day(self, day: date) -> bool:
        return day in self.workdays or (day.weekday() < 5 and day not in self.holidays)


WEEKENDS_ONLY = HolidayCalendar()


def add_working_days(start: date, n: int, calendar: HolidayCalendar = WEEKENDS_ONLY) -> date:
    """The n-th working day after ``start`` (``start`` itself never counts; n = 0 gives ``start``)."""
    if n < 0:
        raise ValueError("n is a number of working days, 0 or more")
    day = start
    while n:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            n -= 1
    return day


def _dates(values: object, key: str) -> frozenset[date]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ValueError(f"{key} is a list of ISO dates")
    try:
        return frozenset(date.fromisoformat(str(value)) for value in values)
    except ValueError as error:
        raise ValueError(f"{key}: {error}") from None
