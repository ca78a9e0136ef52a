"""The quota ledger's decision as a table, without a database (issue 9, "tests that keep it closed").

Every backend applies ``decide`` and ``make_grant`` (marketplace/metering/ledger.py) to the counter
row it locked, so the rules are tested here once over the whole product of cases: rows wanted ×
rows left × calls left × the per-minute rate limit × the overage policy × final or not. The
expected outcome comes from ``expected`` below, the rules as a person states them, written from the
case's description (what is left), not from the counters the code keeps.

Checked for every case: the rows granted and the refusal; a refusal grants nothing and changes no
counter (rows, calls, bytes, calls in the minute); an allowed call adds exactly what it was granted;
and the whole ``extensions.quota`` object a client sees, key by key.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from domain.metering import CHINA
from marketplace.metering.ledger import CounterState, check_reservation, decide, make_grant

PERIOD = "2026-11"
NOW = datetime(2026, 11, 20, 10, 30, 15, tzinfo=CHINA)  # 15 s into its minute
THIS_MINUTE = int(NOW.timestamp() // 60)
NEXT_PERIOD = datetime(2026, 12, 1, tzinfo=CHINA)  # the November quota resets here, China time
ROWS_QUOTA, CALLS_QUOTA, RATE = 100, 50, 5
N = 7  # "many": more than one row or call, fewer than the quota
BYTES = 4096
RECORD = 42

WANTED = (0, 1, N)
ROWS_LEFT = (0, 1, N, None)  # None: no rows quota
CALLS_LEFT = (0, 1, N, None)  # None: no calls quota
# reached: RATE calls already made this minute; reached-last-minute: RATE calls made in the
# minute before (a new window: not reached); not-reached: 2 calls this minute; none: no limit
RATE_STATES = ("reached", "reached-last-minute", "not-reached", "none")
OVERAGES = ("block", "bill")
FINALS = (False, True)

ROWS_USED_BEFORE = 30  # with no rows quota, what was used so far
CALLS_USED_BEFORE = 9


@dataclass(frozen=True)
class Case:
    wanted: int
    rows_left: int | None
    calls_left: int | None
    rate: str
    overage: str
    final: bool

    def __str__(self) -> str:
        return (f"want{self.wanted}-rows_left{self.rows_left}-calls_left{self.calls_left}-"
                f"rate_{self.rate}-{self.overage}-{'final' if self.final else 'open'}")

    # the counter row as the ledger holds it before the call
    @property
    def rows_used(self) -> int:
        return ROWS_USED_BEFORE if self.rows_left is None else ROWS_QUOTA - self.rows_left

    @property
    def calls_used(self) -> int:
        return CALLS_USED_BEFORE if self.calls_left is None else CALLS_QUOTA - self.calls_left

    @property
    def window(self) -> tuple[int, int]:
        """(minute of the window, calls in it)."""
        return {"reached": (THIS_MINUTE, RATE), "reached-last-minute": (THIS_MINUTE - 1, RATE),
                "not-reached": (THIS_MINUTE, 2), "none": (THIS_MINUTE, 3)}[self.rate]

    @property
    def rate_limit(self) -> int | None:
        return None if self.rate == "none" else RATE


CASES = [Case(*values) for values in itertools.product(WANTED, ROWS_LEFT, CALLS_LEFT, RATE_STATES,
                                                       OVERAGES, FINALS)]


@dataclass(frozen=True)
class Outcome:
    granted: int
    refusal: str | None  # None, "rate" or "quota"


def expected(case: Case) -> Outcome:
    """The rules, in the order they apply.

    1. At the rate limit in the current clock minute: refused for the rate, whatever the quota
       (the calls of an earlier minute do not count).
    2. Overage ``bill`` never refuses for the quota: every row wanted is granted (and billed).
    3. Overage ``block``: no calls left → refused; rows wanted but no rows left → refused; a call
       that wants no rows is not refused for rows; otherwise the rows wanted, cut to the rows left
       (the last page is truncated so the quota is hit exactly).
    """
    if case.rate == "reached":
        return Outcome(0, "rate")
    if case.overage == "bill":
        return Outcome(case.wanted, None)
    if case.calls_left == 0:
        return Outcome(0, "quota")
    if case.rows_left is None:
        return Outcome(case.wanted, None)
    if case.rows_left == 0:
        return Outcome(0, "quota") if case.wanted > 0 else Outcome(0, None)
    return Outcome(min(case.wanted, case.rows_left), None)


def _decide(case: Case) -> tuple[int, str | None, CounterState, CounterState]:
    minute, in_window = case.window
    before = CounterState(rows=case.rows_used, calls=case.calls_used, bytes=1000,
                          win_minute=minute, win_calls=in_window)
    state = CounterState(**before.__dict__)
    req = _request(case)
    granted, refusal = decide(state, req)
    return granted, refusal, before, state


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_decision_follows_the_rules(case: Case) -> None:
    granted, refusal, _, _ = _decide(case)
    assert Outcome(granted, refusal) == expected(case)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_refusal_grants_nothing_and_changes_no_counter_and_an_allowed_call_adds_what_it_got(
        case: Case) -> None:
    granted, refusal, before, after = _decide(case)
    # a new minute starts a new window whatever the answer: that is the clock, not a counter
    calls_in_window = 0 if case.rate == "reached-last-minute" else before.win_calls
    assert after.win_minute == THIS_MINUTE
    if refusal is not None:
        assert granted == 0
        assert (after.rows, after.calls, after.bytes, after.win_calls) == (
            before.rows, before.calls, before.bytes, calls_in_window)
    else:
        assert (after.rows, after.calls, after.bytes, after.win_calls) == (
            before.rows + granted, before.calls + 1, before.bytes + BYTES, calls_in_window + 1)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_whole_quota_extension_is_what_the_client_must_see(case: Case) -> None:
    outcome = expected(case)
    granted, refusal, _, state = _decide(case)
    grant = make_grant(state, _request(case), granted, refusal, None if refusal else RECORD)

    counted = outcome.refusal is None
    rows_used = case.rows_used + (outcome.granted if counted else 0)
    calls_used = case.calls_used + (1 if counted else 0)
    window_calls = (0 if case.rate == "reached-last-minute" else case.window[1]) + (1 if counted else 0)
    assert grant.quota_extension() == {
        "rowsRemaining": None if case.rows_left is None else max(0, ROWS_QUOTA - rows_used),
        "callsRemaining": None if case.calls_left is None else max(0, CALLS_QUOTA - calls_used),
        "rowsUsed": rows_used,
        "callsUsed": calls_used,
        "resetAt": "2026-12-01T00:00:00+08:00",
        "rateLimit": case.rate_limit,
        "rateRemaining": None if case.rate_limit is None else max(0, RATE - window_calls),
    }
    assert (grant.allowed, grant.granted_rows, grant.refusal) == (counted, outcome.granted,
                                                                   outcome.refusal)
    assert grant.record_id == (str(RECORD) if counted else None)
    retry = {None: 0, "rate": 60 - 15,
             "quota": int((NEXT_PERIOD - NOW).total_seconds())}[outcome.refusal]
    assert grant.retry_after_seconds == retry
    assert grant.reset_at == NEXT_PERIOD


def test_the_table_covers_every_outcome() -> None:
    """The product is not vacuous: each kind of answer occurs, truncation included."""
    outcomes = [expected(case) for case in CASES]
    assert {o.refusal for o in outcomes} == {None, "rate", "quota"}
    assert any(o.refusal is None and 0 < o.granted < case.wanted for o, case in zip(outcomes, CASES))
    assert any(o.refusal is None and o.granted == 0 for o in outcomes)


def test_minutes_are_clock_minutes_and_a_clock_behind_stays_in_the_newer_window() -> None:
    """A worker whose clock is a minute behind another's does not reopen the old window."""
    state = CounterState(win_minute=THIS_MINUTE, win_calls=RATE)
    late = _request(Case(1, None, None, "reached", "block", False), now=NOW - timedelta(minutes=1))
    assert decide(state, late) == (0, "rate")
    assert (state.win_minute, state.win_calls) == (THIS_MINUTE, RATE)


def _request(case: Case, now: datetime = NOW):
    return check_reservation(
        "sub-1", PERIOD, rows_wanted=case.wanted,
        rows_quota=None if case.rows_left is None else ROWS_QUOTA,
        calls_quota=None if case.calls_left is None else CALLS_QUOTA,
        rate_limit_per_minute=case.rate_limit, overage=case.overage, now=now, asset_id=None,
        department_id=None, organisation_id=None, bytes_estimate=BYTES, final=case.final)
