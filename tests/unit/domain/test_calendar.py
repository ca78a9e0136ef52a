"""China time and working days: weekends, public holidays, 调休 make-up Saturdays, midnight in
Lu'an, and the official calendar the bank ships."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from domain.actors import Actor, Role
from domain.access_application import AccessApplication
from domain.calendar import CHINA, WEEKENDS_ONLY, HolidayCalendar, add_working_days, china_date
from marketplace.settings import OFFICIAL_HOLIDAYS, Settings

OFFICIAL = HolidayCalendar.from_mapping(json.loads(OFFICIAL_HOLIDAYS.read_text(encoding="utf-8")))
MEMBER = Actor("u1", "陈创", Role.MEMBER)


def _deadline(submitted_at: datetime, calendar: HolidayCalendar, review_days: int = 5) -> str:
    return AccessApplication.submit(
        organisation_id="org-1", asset_id="asset-clinics", asset_department_id="dept-health",
        asset_open_type="conditional", purpose="研究", scenario="课题", security_commitment="内网",
        submitted_at=submitted_at, review_days=review_days, calendar=calendar, by=MEMBER).deadline


# ---- working days ----------------------------------------------------------------------------

def test_weekends_are_not_working_days() -> None:
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Friday → Monday
    assert add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 7)  # the start never counts
    assert not WEEKENDS_ONLY.is_working_day(date(2026, 3, 8))


def test_a_public_holiday_is_skipped() -> None:
    # 清明节 2026: Saturday 4 April to Monday 6 April
    assert add_working_days(date(2026, 4, 3), 1, OFFICIAL) == date(2026, 4, 7)
    assert add_working_days(date(2026, 4, 3), 1) == date(2026, 4, 6)  # weekends only


def test_a_makeup_saturday_is_a_working_day() -> None:
    assert OFFICIAL.is_working_day(date(2026, 2, 14))  # Saturday before the Spring Festival
    assert add_working_days(date(2026, 2, 13), 1, OFFICIAL) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 13), 2, OFFICIAL) == date(2026, 2, 24)  # 15–23 off
    assert add_working_days(date(2026, 9, 18), 1, OFFICIAL) == date(2026, 9, 20)  # a Sunday


def test_deadlines_across_the_national_day_week() -> None:
    assert add_working_days(date(2026, 9, 30), 1, OFFICIAL) == date(2026, 10, 8)
    # Monday 28 September + 5: 29, 30 September, 8, 9 and Saturday 10 October (调休)
    monday = datetime(2026, 9, 28, 9, 0, tzinfo=CHINA)
    assert _deadline(monday, OFFICIAL) == "2026-10-10"
    assert _deadline(monday, WEEKENDS_ONLY) == "2026-10-05"


def test_a_negative_number_of_working_days_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 2), -1, OFFICIAL)


# ---- China time ------------------------------------------------------------------------------

def test_the_date_changes_at_midnight_china_time() -> None:
    assert china_date(datetime(2026, 9, 30, 15, 59, 59, tzinfo=timezone.utc)) == date(2026, 9, 30)
    assert china_date(datetime(2026, 9, 30, 16, 0, tzinfo=timezone.utc)) == date(2026, 10, 1)
    assert datetime(2026, 10, 1, tzinfo=CHINA).isoformat() == "2026-10-01T00:00:00+08:00"


def test_a_deadline_counts_from_the_china_date_at_midnight() -> None:
    # Friday 9 October 23:59 in Lu'an: the next working day is Saturday 10 October (调休);
    # a minute later it is Saturday itself, and the next working day is Monday 12 October.
    before = datetime(2026, 10, 9, 15, 59, tzinfo=timezone.utc)
    after = datetime(2026, 10, 9, 16, 0, tzinfo=timezone.utc)
    assert (_deadline(before, OFFICIAL, 1), _deadline(after, OFFICIAL, 1)) == ("2026-10-10", "2026-10-12")


def test_a_naive_time_has_no_china_date() -> None:
    with pytest.raises(ValueError):
        china_date(datetime(2026, 10, 1, 0, 0))


# ---- the calendar as data --------------------------------------------------------------------

def test_a_calendar_reads_iso_dates_and_ignores_other_keys() -> None:
    calendar = HolidayCalendar.from_mapping({"source": "test", "holidays": ["2026-10-01"],
                                             "workdays": ["2026-10-10"]})
    assert calendar == HolidayCalendar(frozenset({date(2026, 10, 1)}), frozenset({date(2026, 10, 10)}))
    assert HolidayCalendar.from_mapping({}) == WEEKENDS_ONLY


@pytest.mark.parametrize("data", [
    {"holidays": ["2026-10-01"], "workdays": ["2026-10-01"]},  # both
    {"workdays": ["2026-10-09"]},  # a Friday is a working day anyway: a typo
    {"holidays": ["2026-13-01"]},
    {"holidays": "2026-10-01"},  # not a list
])
def test_a_calendar_that_makes_no_sense_is_refused(data) -> None:
    with pytest.raises(ValueError):
        HolidayCalendar.from_mapping(data)


def test_the_shipped_official_calendar_is_the_default(tmp_path) -> None:
    assert Settings().holiday_calendar() == OFFICIAL
    assert len(OFFICIAL.holidays) == 33 and len(OFFICIAL.workdays) == 6  # the 2026 notice
    own = tmp_path / "holidays.json"
    own.write_text(json.dumps({"holidays": ["2027-01-01"], "workdays": []}), encoding="utf-8")
    settings = Settings.from_env({"DATABANK_HOLIDAYS_FILE": str(own)})
    assert settings.holiday_calendar().holidays == frozenset({date(2027, 1, 1)})
    own.write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError, match="DATABANK_HOLIDAYS_FILE"):
        settings.holiday_calendar()
