"""Usage meters: batches counted once, overage counted not refused, periods reset in China time."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from eventsourcing.application import Application

from domain.errors import InvalidInputError
from domain.metering import DEDUPE_WINDOW, UsageMeter, period_of, period_reset_at

CST = timezone(timedelta(hours=8))


def _meter(rows_quota: int | None = 1000, calls_quota: int | None = 100) -> UsageMeter:
    return UsageMeter.open(subscription_id="sub-1", period="2026-01", rows_quota=rows_quota,
                           calls_quota=calls_quota)


def test_one_meter_per_subscription_and_period() -> None:
    assert _meter().id == UsageMeter.create_id("sub-1", "2026-01")
    assert UsageMeter.create_id("sub-1", "2026-02") != UsageMeter.create_id("sub-1", "2026-01")


@pytest.mark.parametrize("period", ["2026-1", "2026-13", "2026-00", "26-01", "2026/01", ""])
def test_a_period_is_year_dash_month(period) -> None:
    with pytest.raises(InvalidInputError) as caught:
        UsageMeter.open(subscription_id="s", period=period, rows_quota=None, calls_quota=None)
    assert caught.value.field == "period"


def test_a_quota_is_positive_or_none() -> None:
    with pytest.raises(InvalidInputError):
        _meter(rows_quota=0)


def test_usage_adds_up_and_remaining_shrinks() -> None:
    meter = _meter()
    assert meter.record("b1", rows=300, calls=10, bytes_served=4096)
    assert meter.record("b2", rows=200, calls=5)
    assert (meter.rows, meter.calls, meter.bytes_served, meter.batches) == (500, 15, 4096, 2)
    assert meter.remaining() == {"rows": 500, "calls": 85}


def test_the_same_batch_twice_is_counted_once() -> None:
    meter = _meter()
    assert meter.record("b1", rows=300, calls=10)
    assert not meter.record("b1", rows=300, calls=10)
    assert (meter.rows, meter.calls) == (300, 10)
    assert len(meter.collect_events()) == 2  # Opened, one Recorded


def test_would_exceed_decides_before_serving() -> None:
    meter = _meter()
    meter.record("b1", rows=990, calls=99)
    assert not meter.would_exceed(rows=10, calls=1)
    assert meter.would_exceed(rows=11)
    assert meter.would_exceed(calls=2)


def test_unlimited_quotas_never_run_out() -> None:
    meter = _meter(rows_quota=None, calls_quota=None)
    meter.record("b1", rows=10**9, calls=10**6)
    assert meter.remaining() == {"rows": None, "calls": None}
    assert not meter.would_exceed(rows=10**9, calls=10**6)
    assert (meter.rows_over, meter.calls_over) == (0, 0)


def test_usage_past_the_quota_is_recorded_and_counted_as_overage() -> None:
    meter = _meter()
    meter.record("b1", rows=900, calls=90)
    assert meter.record("b2", rows=250, calls=15)
    assert (meter.rows_over, meter.calls_over) == (150, 5)
    assert meter.remaining() == {"rows": 0, "calls": 0}
    assert meter.usage()["rows_over"] == 150


@pytest.mark.parametrize("batch_id, rows, calls, size, field", [
    ("", 1, 1, 0, "batch_id"), ("has space", 1, 1, 0, "batch_id"), ("b", -1, 1, 0, "rows"),
    ("b", 1, 1.5, 0, "calls"), ("b", True, 1, 0, "rows"), ("b", 1, 1, -5, "bytes_served"),
])
def test_invalid_usage_is_refused_naming_the_field(batch_id, rows, calls, size, field) -> None:
    meter = _meter()
    with pytest.raises(InvalidInputError) as caught:
        meter.record(batch_id, rows=rows, calls=calls, bytes_served=size)
    assert caught.value.field == field and meter.rows == 0


@pytest.mark.parametrize("period, reset", [
    ("2026-01", datetime(2026, 2, 1, tzinfo=CST)),
    ("2026-12", datetime(2027, 1, 1, tzinfo=CST)),
    ("2028-02", datetime(2028, 3, 1, tzinfo=CST)),
])
def test_quotas_reset_at_midnight_china_time_on_the_first_of_the_next_month(period, reset) -> None:
    assert period_reset_at(period) == reset
    assert period_reset_at(period).isoformat().endswith("T00:00:00+08:00")


def test_the_reset_of_january_2026_is_1_february_at_0_00_plus_8() -> None:
    assert period_reset_at("2026-01").isoformat() == "2026-02-01T00:00:00+08:00"
    assert _meter().reset_at == datetime(2026, 1, 31, 16, 0, tzinfo=timezone.utc)


def test_the_period_of_a_moment_is_its_month_in_china_time() -> None:
    assert period_of(datetime(2026, 1, 31, 16, 0, tzinfo=timezone.utc)) == "2026-02"
    assert period_of(datetime(2026, 1, 31, 15, 59, tzinfo=timezone.utc)) == "2026-01"
    with pytest.raises(ValueError):
        period_of(datetime(2026, 1, 31))


def test_only_the_last_thousand_batch_ids_are_kept() -> None:
    meter = _meter(rows_quota=None, calls_quota=None)
    for i in range(DEDUPE_WINDOW + 5):
        meter.record(f"b{i}", rows=1, calls=1)
    assert len(meter.recent_batch_ids) == DEDUPE_WINDOW == 1000
    assert not meter.has_recorded("b4") and meter.has_recorded("b5")
    assert not meter.record(f"b{DEDUPE_WINDOW + 4}", rows=1, calls=1)


def test_a_meter_of_5000_batches_stays_small_through_snapshot_and_replay() -> None:
    app = Application(env={"PERSISTENCE_MODULE": "eventsourcing.popo", "IS_SNAPSHOTTING_ENABLED": "y"})
    meter = _meter(rows_quota=4000, calls_quota=None)
    for i in range(5000):
        meter.record(f"batch-{i:05d}", rows=1, calls=2, bytes_served=10)
    app.save(meter)
    app.take_snapshot(meter.id)
    meter.record("batch-late", rows=1, calls=1)
    app.save(meter)

    from_snapshot = app.repository.get(meter.id)
    replayed = None
    for domain_event in app.events.get(meter.id):  # every stored event, ignoring the snapshot
        replayed = domain_event.mutate(replayed)
    for loaded in (from_snapshot, replayed):
        assert vars(loaded) == vars(meter)
        assert (loaded.rows, loaded.calls, loaded.rows_over, loaded.batches) == (5001, 10001, 1001, 5001)
        assert len(loaded.recent_batch_ids) <= DEDUPE_WINDOW
    (snapshot,) = list(app.snapshots.get(meter.id))
    assert len(json.dumps(snapshot.state, default=str)) < 40_000

