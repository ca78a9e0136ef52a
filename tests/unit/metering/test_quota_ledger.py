"""The quota ledger's rules, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from domain.errors import InvalidInputError
from domain.metering import CHINA, period_reset_at
from marketplace.metering import QuotaLedger

PERIOD = "2026-11"
NOW = datetime(2026, 11, 20, 10, 30, 15, tzinfo=CHINA)
SUB = "8a1c4a3e-6c1f-5d7e-9a39-1a0b9c2d7e11"


def reserve(ledger: QuotaLedger, rows: int, *, quota: int | None = 1000, calls: int | None = None,
            rate: int | None = None, overage: str = "block", now: datetime = NOW, subject: str = SUB,
            **extra):
    return ledger.reserve(subject, PERIOD, rows_wanted=rows, rows_quota=quota, calls_quota=calls,
                          rate_limit_per_minute=rate, overage=overage, now=now, **extra)


def test_a_grant_within_the_quota_gives_every_row_wanted_and_counts_one_call(ledger: QuotaLedger) -> None:
    grant = reserve(ledger, 100)
    assert (grant.allowed, grant.granted_rows, grant.refusal) == (True, 100, None)
    assert (grant.rows_used, grant.calls_used, grant.rows_remaining) == (100, 1, 900)
    assert grant.record_id is not None and grant.retry_after_seconds == 0
    assert ledger.usage(SUB, PERIOD)["rows"] == 100 and ledger.usage(SUB, PERIOD)["calls"] == 1


def test_the_last_page_is_truncated_so_the_quota_is_hit_exactly(ledger: QuotaLedger) -> None:
    for _ in range(9):
        assert reserve(ledger, 100, quota=950).granted_rows == 100
    last = reserve(ledger, 100, quota=950)
    assert (last.allowed, last.granted_rows, last.rows_remaining) == (True, 50, 0)
    assert ledger.usage(SUB, PERIOD)["rows"] == 950


def test_an_exhausted_quota_refuses_with_the_reset_time_and_retry_after(ledger: QuotaLedger) -> None:
    reserve(ledger, 100, quota=100)
    refused = reserve(ledger, 10, quota=100)
    assert (refused.allowed, refused.refusal, refused.granted_rows) == (False, "quota", 0)
    assert refused.record_id is None
    assert refused.reset_at == period_reset_at(PERIOD) == datetime(2026, 12, 1, tzinfo=CHINA)
    assert refused.retry_after_seconds == int((refused.reset_at - NOW).total_seconds())
    usage = ledger.usage(SUB, PERIOD)
    assert (usage["rows"], usage["calls"]) == (100, 1)


def test_a_calls_quota_refuses_the_call_after_the_last_allowed_one(ledger: QuotaLedger) -> None:
    assert [reserve(ledger, 1, quota=None, calls=3).allowed for _ in range(4)] == [True, True, True, False]
    assert reserve(ledger, 1, quota=None, calls=3).refusal == "quota"


def test_the_rate_limit_refuses_within_a_minute_and_allows_again_in_the_next(ledger: QuotaLedger) -> None:
    answers = [reserve(ledger, 1, rate=3, now=NOW + timedelta(seconds=i)) for i in range(4)]
    assert [a.allowed for a in answers] == [True, True, True, False]
    assert answers[2].rate_remaining == 0
    limited = answers[3]
    assert limited.refusal == "rate" and limited.retry_after_seconds == 60 - 18
    next_minute = NOW.replace(second=0) + timedelta(minutes=1)
    again = reserve(ledger, 1, rate=3, now=next_minute)
    assert again.allowed and again.rate_remaining == 2
    assert ledger.usage(SUB, PERIOD)["calls"] == 4  # the refused call is not counted


def test_a_rate_limited_call_does_not_use_the_quota(ledger: QuotaLedger) -> None:
    reserve(ledger, 10, rate=1)
    assert reserve(ledger, 10, rate=1).refusal == "rate"
    assert ledger.usage(SUB, PERIOD)["rows"] == 10


def test_overage_bill_never_refuses_for_the_quota_and_counts_beyond_it(ledger: QuotaLedger) -> None:
    grants = [reserve(ledger, 100, quota=150, calls=1, overage="bill") for _ in range(3)]
    assert [g.granted_rows for g in grants] == [100, 100, 100]
    assert all(g.allowed for g in grants)
    assert grants[-1].rows_remaining == 0 and grants[-1].rows_used == 300
    assert ledger.usage(SUB, PERIOD)["rows"] == 300


def test_an_unlimited_plan_reports_no_remaining_figure(ledger: QuotaLedger) -> None:
    grant = reserve(ledger, 1000, quota=None)
    assert grant.granted_rows == 1000 and grant.rows_remaining is None and grant.calls_remaining is None


def test_settling_gives_back_the_rows_not_served(ledger: QuotaLedger) -> None:
    grant = reserve(ledger, 100, quota=150)
    assert ledger.settle(grant, rows_served=30, bytes_served=2048) is True
    usage = ledger.usage(SUB, PERIOD)
    assert (usage["rows"], usage["calls"], usage["bytes"]) == (30, 1, 2048)
    assert reserve(ledger, 200, quota=150).granted_rows == 120


def test_settling_twice_gives_back_only_once(ledger: QuotaLedger) -> None:
    grant = reserve(ledger, 100)
    assert ledger.settle(grant, rows_served=10) is True
    assert ledger.settle(grant, rows_served=0) is False
    assert ledger.usage(SUB, PERIOD)["rows"] == 10


def test_settling_a_fully_served_grant_writes_nothing(ledger: QuotaLedger) -> None:
    grant = reserve(ledger, 100, bytes_estimate=500)
    assert ledger.settle(grant, rows_served=100, bytes_served=999) is False
    assert ledger.usage(SUB, PERIOD)["bytes"] == 500


def test_serving_more_than_granted_is_refused_as_bad_input(ledger: QuotaLedger) -> None:
    grant = reserve(ledger, 10)
    with pytest.raises(InvalidInputError):
        ledger.settle(grant, rows_served=11)


def test_a_reservation_never_settled_still_counts_as_used(ledger: QuotaLedger) -> None:
    """A worker killed after serving never settles: what it reserved is durable and counted."""
    reserve(ledger, 100, quota=150)
    batch = ledger.claim_feed_batch(100, grace_seconds=0)
    assert batch is not None and [r.rows for r in batch.records] == [100]
    assert ledger.usage(SUB, PERIOD)["rows"] == 100


def test_an_unsettled_record_waits_for_the_grace_but_a_final_one_does_not(ledger: QuotaLedger) -> None:
    reserve(ledger, 5)
    reserve(ledger, 7, final=True)
    batch = ledger.claim_feed_batch(100, grace_seconds=3600)
    assert batch is not None and [r.rows for r in batch.records] == [7]
    reserve(ledger, 9, final=True)
    assert [r.rows for r in ledger.claim_feed_batch(100, grace_seconds=3600).records] == [9]
    # the record left waiting below the claimed ones is not forgotten once its grace is over
    assert [r.rows for r in ledger.claim_feed_batch(100, grace_seconds=0).records] == [5]
    assert ledger.claim_feed_batch(100, grace_seconds=0) is None


def test_a_record_taken_by_the_feed_keeps_its_reserved_rows_on_settle(ledger: QuotaLedger) -> None:
    grant = reserve(ledger, 100)
    ledger.claim_feed_batch(100, grace_seconds=0)
    assert ledger.settle(grant, rows_served=1) is False
    assert ledger.usage(SUB, PERIOD)["rows"] == 100


def test_subjects_and_periods_are_counted_apart(ledger: QuotaLedger) -> None:
    reserve(ledger, 100, quota=100)
    assert reserve(ledger, 100, quota=100, subject="anon:10.0.0.1").granted_rows == 100
    later = ledger.reserve(SUB, "2026-12", rows_wanted=100, rows_quota=100, calls_quota=None,
                           rate_limit_per_minute=None, now=datetime(2026, 12, 1, tzinfo=CHINA))
    assert later.granted_rows == 100 and later.reset_at == datetime(2027, 1, 1, tzinfo=CHINA)


def test_a_zero_row_call_is_allowed_on_an_exhausted_row_quota_and_counted(ledger: QuotaLedger) -> None:
    reserve(ledger, 10, quota=10)
    grant = reserve(ledger, 0, quota=10)
    assert grant.allowed and grant.granted_rows == 0 and grant.calls_used == 2


@pytest.mark.parametrize("bad", [
    {"rows": -1}, {"overage": "maybe"}, {"now": datetime(2026, 11, 1)}, {"subject": ""},
    {"quota": -5},
])
def test_bad_reservations_are_refused_before_touching_the_ledger(ledger: QuotaLedger, bad: dict) -> None:
    args = {"rows": 1, **bad}
    with pytest.raises(InvalidInputError):
        reserve(ledger, args.pop("rows"), **args)
    assert ledger.usage(SUB, PERIOD)["calls"] == 0


def test_a_bad_period_is_refused(ledger: QuotaLedger) -> None:
    with pytest.raises(InvalidInputError):
        ledger.reserve(SUB, "2026-13", rows_wanted=1, rows_quota=None, calls_quota=None,
                       rate_limit_per_minute=None, now=NOW)


def test_the_daily_read_model_counts_fed_usage_per_day_asset_and_department(ledger: QuotaLedger) -> None:
    tags = {"asset_id": "asset-1", "department_id": "dept-1", "organisation_id": "org-1"}
    reserve(ledger, 10, final=True, bytes_estimate=100, **tags)
    reserve(ledger, 20, final=True, now=NOW + timedelta(days=1), **tags)
    reserve(ledger, 5, final=True, subject="anon:10.0.0.9", asset_id="asset-2", department_id="dept-1")
    assert ledger.daily_usage(from_day="2026-11-01", to_day="2026-11-30") == []  # nothing fed yet
    batch = ledger.claim_feed_batch(100, grace_seconds=0)
    assert ledger.mark_fed(batch.number) == 3
    assert ledger.mark_fed(batch.number) == 0  # exactly once
    by_dept = ledger.daily_usage(from_day="2026-11-01", to_day="2026-11-30", department_id="dept-1")
    assert [(d["day"], d["subject"], d["rows"], d["calls"]) for d in by_dept] == [
        ("2026-11-20", SUB, 10, 1), ("2026-11-20", "anon:10.0.0.9", 5, 1), ("2026-11-21", SUB, 20, 1)]
    assert by_dept[0]["bytes"] == 100 and by_dept[0]["organisation_id"] == "org-1"
    one_day = ledger.daily_usage(from_day="2026-11-21", to_day="2026-11-21", organisation_id="org-1")
    assert [d["rows"] for d in one_day] == [20]
    assert [d["rows"] for d in ledger.daily_usage(from_day="2026-11-01", to_day="2026-11-30",
                                                  asset_id="asset-2")] == [5]


def test_the_china_day_of_a_late_utc_evening_is_the_next_day(ledger: QuotaLedger) -> None:
    evening_utc = datetime(2026, 11, 20, 20, 0, tzinfo=timezone.utc)  # 04:00 on the 21st in Lu'an
    reserve(ledger, 1, final=True, now=evening_utc)
    ledger.mark_fed(ledger.claim_feed_batch(10, grace_seconds=0).number)
    assert [d["day"] for d in ledger.daily_usage(from_day="2026-11-01", to_day="2026-11-30")] == ["2026-11-21"]


def test_the_quota_extension_tells_what_is_left(ledger: QuotaLedger) -> None:
    ext = reserve(ledger, 10, quota=100, rate=60).quota_extension()
    assert ext["rowsRemaining"] == 90 and ext["rateRemaining"] == 59
    assert ext["resetAt"] == "2026-12-01T00:00:00+08:00"


def test_fed_batches_list_the_fed_records_per_batch_without_anonymous_callers(ledger) -> None:
    now = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    for subject in ("sub-a", "anon:10.0.0.1", "sub-b"):
        ledger.reserve(subject, "2026-11", rows_wanted=5, rows_quota=None, calls_quota=None,
                       rate_limit_per_minute=None, now=now, final=True)
    first = ledger.claim_feed_batch(2, grace_seconds=0)
    ledger.mark_fed(first.number)
    ledger.reserve("sub-a", "2026-11", rows_wanted=7, rows_quota=None, calls_quota=None,
                   rate_limit_per_minute=None, now=now, final=True)
    unfed = ledger.claim_feed_batch(10, grace_seconds=0)
    batches = list(ledger.fed_batches())
    assert [(b.number, [r.subject for r in b.records]) for b in batches] == [(first.number, ["sub-a"])]
    ledger.mark_fed(unfed.number)
    assert [[(r.subject, r.rows) for r in b.records] for b in ledger.fed_batches()] == [
        [("sub-a", 5)], [("sub-b", 5), ("sub-a", 7)]]
