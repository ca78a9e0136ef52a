"""The quota ledger's checks and the edges of its decision, without a database (issue 9).

``check_reservation`` and ``check_settlement`` (marketplace/metering/ledger.py) are the only gate
between a caller and the counters: every bad argument must be refused with an InvalidInputError
that names the argument (``field``) and says what a good one is, and every value just inside a
bound must pass. The edges of ``decide``, ``make_grant``, ``settle_state`` and ``epoch_minute``
that the decision table does not reach (the last second before a window or a period ends, a
window moved by a refused call, a second settlement of the same record) are pinned here too.
Written against the surviving mutants of ``bench/mutation_bench.py``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from domain.errors import InvalidInputError
from domain.metering import CHINA
from marketplace.metering.ledger import (
    MAX_SUBJECT,
    CounterState,
    Grant,
    Reservation,
    Settlement,
    check_reservation,
    check_settlement,
    decide,
    epoch_minute,
    make_grant,
    settle_state,
)

PERIOD = "2026-11"
NOW = datetime(2026, 11, 20, 10, 30, 15, tzinfo=CHINA)
THIS_MINUTE = int(NOW.timestamp() // 60)
RESET_AT = datetime(2026, 12, 1, tzinfo=CHINA)  # when the November quota resets, China time
SUB = "8a1c4a3e-6c1f-5d7e-9a39-1a0b9c2d7e11"

GOOD: dict[str, Any] = {
    "subject": SUB, "period": PERIOD, "rows_wanted": 10, "rows_quota": 1000, "calls_quota": 100,
    "rate_limit_per_minute": 60, "overage": "block", "now": NOW, "asset_id": "asset-1",
    "department_id": "dept-1", "organisation_id": "org-1", "bytes_estimate": 4096, "final": False,
}

WHOLE = "is a whole number, 0 or more"
NOT_WHOLE = [-1, True, False, 1.0, 1.5, "1", None, b"1"]  # None: where None is not "no limit"
NOT_WHOLE_OR_NONE = [-1, True, False, 1.0, 1.5, "1", b"1"]


def reserve(**changes: Any) -> Reservation:
    args = {**GOOD, **changes}
    return check_reservation(args.pop("subject"), args.pop("period"), **args)


def refusal(call, *args: Any, **kwargs: Any) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == "INVALID_INPUT"
    assert str(caught.value) == caught.value.message
    return caught.value


def assert_refused(error: InvalidInputError, field: str, message: str) -> None:
    assert (error.field, error.message) == (field, message)


# ---- check_reservation: what passes ---------------------------------------------------------

def test_a_good_reservation_is_returned_whole() -> None:
    assert reserve() == Reservation(SUB, PERIOD, 10, 1000, 100, 60, "block", NOW, "asset-1",
                                    "dept-1", "org-1", 4096, False)


@pytest.mark.parametrize("length", [1, MAX_SUBJECT - 1, MAX_SUBJECT])
def test_a_subject_of_1_to_200_characters_passes(length: int) -> None:
    assert MAX_SUBJECT == 200
    assert reserve(subject="s" * length).subject == "s" * length


@pytest.mark.parametrize("name", ["rows_wanted", "bytes_estimate"])
@pytest.mark.parametrize("value", [0, 1, 10**12])
def test_counts_of_0_and_more_pass(name: str, value: int) -> None:
    assert getattr(reserve(**{name: value}), name) == value


@pytest.mark.parametrize("name", ["rows_quota", "calls_quota", "rate_limit_per_minute"])
@pytest.mark.parametrize("value", [None, 0, 1, 10**12])
def test_a_limit_of_0_or_more_or_none_passes(name: str, value: int | None) -> None:
    assert getattr(reserve(**{name: value}), name) == value


def test_a_limit_of_0_is_a_limit_not_unlimited() -> None:
    """0 rows, 0 calls, 0 calls a minute: every call is refused (for the rate first)."""
    req = reserve(rows_quota=0, calls_quota=0, rate_limit_per_minute=0)
    assert decide(CounterState(), req) == (0, "rate")
    assert decide(CounterState(), replace(req, rate_limit_per_minute=None)) == (0, "quota")


@pytest.mark.parametrize("overage", ["block", "bill"])
def test_both_overage_policies_pass(overage: str) -> None:
    assert reserve(overage=overage).overage == overage


@pytest.mark.parametrize("now", [NOW, NOW.astimezone(UTC),
                                 NOW.astimezone(timezone(timedelta(hours=-5)))])
def test_any_aware_now_passes(now: datetime) -> None:
    assert reserve(now=now).now == now


@pytest.mark.parametrize(("final", "kept"), [(True, True), (False, False), (1, True), (0, False)])
def test_final_is_kept_as_a_bool(final: Any, kept: bool) -> None:
    assert reserve(final=final).final is kept


# ---- check_reservation: what is refused, and how ----------------------------------------------

@pytest.mark.parametrize("subject", ["", "s" * (MAX_SUBJECT + 1), "s" * 1000, None, 5, b"sub", ["sub"]])
def test_a_subject_that_is_not_1_to_200_characters_is_refused(subject: Any) -> None:
    error = refusal(reserve, subject=subject)
    assert_refused(error, "subject", "a metering subject is 1 to 200 characters")


@pytest.mark.parametrize("period", ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "", None, 202611])
def test_a_period_that_is_not_yyyy_mm_is_refused(period: Any) -> None:
    error = refusal(reserve, period=period)
    assert_refused(error, "period", f"period {period!r} is not YYYY-MM")


@pytest.mark.parametrize("name", ["rows_wanted", "bytes_estimate"])
@pytest.mark.parametrize("value", NOT_WHOLE)
def test_a_count_that_is_not_a_whole_number_of_0_or_more_is_refused(name: str, value: Any) -> None:
    error = refusal(reserve, **{name: value})
    assert_refused(error, name, f"{name} {WHOLE}")


@pytest.mark.parametrize("name", ["rows_quota", "calls_quota", "rate_limit_per_minute"])
@pytest.mark.parametrize("value", NOT_WHOLE_OR_NONE)
def test_a_limit_that_is_not_a_whole_number_of_0_or_more_is_refused(name: str, value: Any) -> None:
    error = refusal(reserve, **{name: value})
    assert_refused(error, name, f"{name} {WHOLE}, or None")


@pytest.mark.parametrize("overage", ["BLOCK", "Bill", "maybe", "", None])
def test_an_unknown_overage_policy_is_refused(overage: Any) -> None:
    error = refusal(reserve, overage=overage)
    assert_refused(error, "overage", "overage is 'block' or 'bill'")


@pytest.mark.parametrize("now", [NOW.replace(tzinfo=None), date(2026, 11, 20), NOW.isoformat(),
                                 NOW.timestamp(), None])
def test_a_now_that_is_not_an_aware_datetime_is_refused(now: Any) -> None:
    error = refusal(reserve, now=now)
    assert_refused(error, "now", "now is a datetime with a timezone")


# ---- check_settlement ------------------------------------------------------------------------

def granted(rows: int = 5, *, record_id: str | None = "17", allowed: bool = True) -> Grant:
    return Grant(subject=SUB, period=PERIOD, granted_rows=rows, allowed=allowed,
                 refusal=None if allowed else "quota", rows_used=rows, calls_used=1,
                 rows_remaining=None, calls_remaining=None, reset_at=RESET_AT,
                 retry_after_seconds=0, record_id=record_id)


@pytest.mark.parametrize("served", [0, 1, 4])
def test_serving_fewer_rows_than_granted_settles_the_record(served: int) -> None:
    assert check_settlement(granted(5), served, 800) == Settlement(SUB, PERIOD, 17, 5, served, 800)


def test_serving_every_granted_row_writes_nothing() -> None:
    assert check_settlement(granted(5), 5, 800) is None
    assert check_settlement(granted(0), 0, 0) is None


def test_a_refused_grant_settles_to_nothing() -> None:
    assert check_settlement(granted(0, record_id=None, allowed=False), 0, 0) is None


def test_an_allowed_grant_without_a_usage_record_settles_to_nothing() -> None:
    """The unmetered ledger's grants have no record: there is nothing to give back to."""
    assert check_settlement(granted(5, record_id=None), 2, 0) is None


@pytest.mark.parametrize("served", NOT_WHOLE)
def test_rows_served_that_are_not_a_whole_number_of_0_or_more_are_refused(served: Any) -> None:
    error = refusal(check_settlement, granted(5), served, 0)
    assert_refused(error, "rows_served", f"rows_served {WHOLE}")


@pytest.mark.parametrize("served_bytes", NOT_WHOLE)
def test_bytes_served_that_are_not_a_whole_number_of_0_or_more_are_refused(served_bytes: Any) -> None:
    error = refusal(check_settlement, granted(5), 2, served_bytes)
    assert_refused(error, "bytes_served", f"bytes_served {WHOLE}")


@pytest.mark.parametrize(("rows", "served"), [(5, 6), (5, 500), (0, 1)])
def test_serving_more_rows_than_granted_is_refused(rows: int, served: int) -> None:
    error = refusal(check_settlement, granted(rows), served, 0)
    assert_refused(error, "rows_served", "more rows served than granted")


def test_a_refused_grant_cannot_be_settled_with_rows() -> None:
    error = refusal(check_settlement, granted(0, record_id=None, allowed=False), 1, 0)
    assert_refused(error, "rows_served", "more rows served than granted")


# ---- the edges of the decision ---------------------------------------------------------------

def test_a_call_refused_for_the_quota_in_a_new_minute_still_moves_the_window() -> None:
    """The new window is written back (``changed``) even when the call is refused: otherwise a
    worker whose clock is a minute behind would still count in the old, full window."""
    state = CounterState(rows=0, calls=100, win_minute=THIS_MINUTE - 1, win_calls=60)
    assert decide(state, reserve(calls_quota=100)) == (0, "quota")
    assert (state.win_minute, state.win_calls, state.calls, state.changed) == (THIS_MINUTE, 0, 100, True)


def test_a_call_refused_for_a_zero_rate_in_a_new_minute_still_moves_the_window() -> None:
    state = CounterState(win_minute=THIS_MINUTE - 5, win_calls=3)
    assert decide(state, reserve(rate_limit_per_minute=0)) == (0, "rate")
    assert (state.win_minute, state.win_calls, state.changed) == (THIS_MINUTE, 0, True)


def test_a_call_refused_in_the_same_minute_changes_nothing() -> None:
    state = CounterState(rows=1000, calls=3, win_minute=THIS_MINUTE, win_calls=3)
    assert decide(state, reserve()) == (0, "quota")
    assert state == CounterState(rows=1000, calls=3, win_minute=THIS_MINUTE, win_calls=3,
                                 rows_quota=1000, calls_quota=100, changed=False)


@pytest.mark.parametrize(("now", "retry"), [
    (NOW.replace(second=0, microsecond=0), 60),
    (NOW.replace(second=58, microsecond=500_000), 2),
    (NOW.replace(second=59), 1),
    (NOW.replace(second=59, microsecond=500_000), 1),
    (NOW.replace(second=59, microsecond=999_999), 1),
])
def test_a_rate_refusal_says_to_retry_at_the_next_minute_and_never_in_less_than_a_second(
        now: datetime, retry: int) -> None:
    grant = make_grant(CounterState(), reserve(now=now), 0, "rate", None)
    assert (grant.allowed, grant.refusal, grant.retry_after_seconds) == (False, "rate", retry)


@pytest.mark.parametrize(("before_reset", "retry"), [
    (timedelta(seconds=2), 2),
    (timedelta(seconds=1), 1),
    (timedelta(milliseconds=500), 1),
    (timedelta(microseconds=1), 1),
    (timedelta(0), 1),
    (-timedelta(hours=1), 1),  # a late request for a period already over
])
def test_a_quota_refusal_says_to_retry_at_the_reset_and_never_in_less_than_a_second(
        before_reset: timedelta, retry: int) -> None:
    grant = make_grant(CounterState(), reserve(now=RESET_AT - before_reset), 0, "quota", None)
    assert (grant.allowed, grant.refusal, grant.retry_after_seconds, grant.reset_at) == (
        False, "quota", retry, RESET_AT)


def test_an_allowed_grant_says_no_retry() -> None:
    grant = make_grant(CounterState(rows=10, calls=1, win_calls=1), reserve(), 10, None, 7)
    assert (grant.allowed, grant.retry_after_seconds, grant.record_id) == (True, 0, "7")


def test_settling_gives_back_the_unserved_rows_and_replaces_the_estimated_bytes() -> None:
    state = CounterState(rows=10, calls=2, bytes=5000)
    settle_state(state, Settlement(SUB, PERIOD, 17, 5, 2, 800), recorded_rows=5, recorded_bytes=4096)
    assert (state.rows, state.calls, state.bytes, state.changed) == (7, 2, 5000 - 4096 + 800, True)


@pytest.mark.parametrize("recorded_rows", [2, 1, 0])
def test_settling_a_record_that_holds_no_more_than_was_served_gives_back_nothing(
        recorded_rows: int) -> None:
    state = CounterState(rows=10, calls=2, bytes=5000)
    settle_state(state, Settlement(SUB, PERIOD, 17, 5, 2, 800), recorded_rows=recorded_rows,
                 recorded_bytes=800)
    assert (state.rows, state.bytes) == (10, 5000)


@pytest.mark.parametrize(("moment", "minute"), [
    (datetime(1970, 1, 1, tzinfo=UTC), 0),
    (datetime(1970, 1, 1, 0, 0, 59, 999_999, tzinfo=UTC), 0),
    (datetime(1970, 1, 1, 0, 1, tzinfo=UTC), 1),
    (datetime(1969, 12, 31, 23, 59, 30, tzinfo=UTC), -1),  # floor, not toward zero
    (datetime(1969, 12, 31, 23, 59, tzinfo=UTC), -1),
    (datetime(1969, 12, 31, 23, 58, 59, tzinfo=UTC), -2),
    (NOW.replace(second=0, microsecond=0), THIS_MINUTE),
    (NOW.replace(second=59, microsecond=999_999), THIS_MINUTE),
    (NOW.replace(second=0, microsecond=0) + timedelta(minutes=1), THIS_MINUTE + 1),
])
def test_the_rate_window_is_the_clock_minute(moment: datetime, minute: int) -> None:
    assert epoch_minute(moment) == minute
