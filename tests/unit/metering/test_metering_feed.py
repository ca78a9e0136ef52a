"""Feeding the ledger's usage records into UsageMeter events: exactly once, whatever crashes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from domain.metering import CHINA, UsageMeter
from marketplace.metering import QuotaLedger
from marketplace.services.metering import Metering
from support.waiting import wait_until

PERIOD = "2026-11"
NOW = datetime(2026, 11, 20, 10, 30, tzinfo=CHINA)
SUBS = ["3f1a0c52-4f0e-5b1a-9a39-1a0b9c2d7e11", "4e2b1d63-5a1f-5c2b-8b4a-2b1c0d3e8f22"]


@pytest.fixture
def metering(ledger: QuotaLedger) -> Iterator[Metering]:
    app = Metering({"PERSISTENCE_MODULE": "eventsourcing.popo"}, ledger=ledger, grace_seconds=0)
    try:
        yield app
    finally:
        app.close()


def serve(ledger: QuotaLedger, subject: str, rows: int, *, served: int | None = None) -> None:
    grant = ledger.reserve(subject, PERIOD, rows_wanted=rows, rows_quota=10_000, calls_quota=500,
                           rate_limit_per_minute=None, now=NOW, asset_id="asset-1")
    if served is not None:
        ledger.settle(grant, rows_served=served, bytes_served=served * 10)


def test_fed_records_become_one_recorded_event_per_meter(metering: Metering) -> None:
    for rows in (100, 100, 37):
        serve(metering.ledger, SUBS[0], rows)
    serve(metering.ledger, SUBS[1], 5)
    assert metering.feed() == 4
    meter = metering.repository.get(UsageMeter.create_id(SUBS[0], PERIOD))
    assert (meter.rows, meter.calls, meter.batches, meter.version) == (237, 3, 1, 2)
    assert (meter.rows_quota, meter.calls_quota) == (10_000, 500)
    assert metering.meter_usage(SUBS[1], PERIOD)["rows"] == 5


def test_feeding_again_changes_nothing(metering: Metering) -> None:
    serve(metering.ledger, SUBS[0], 100)
    metering.feed()
    position = metering.recorder.max_notification_id()
    assert metering.feed() == 0
    assert metering.recorder.max_notification_id() == position


def test_a_crash_between_saving_and_marking_fed_still_counts_once(metering: Metering) -> None:
    ledger = metering.ledger
    serve(ledger, SUBS[0], 100)
    serve(ledger, SUBS[1], 40)
    batch = ledger.claim_feed_batch(100, grace_seconds=0)
    assert metering.record_batch(batch) == 2  # saved; the feeder "dies" before mark_fed
    serve(ledger, SUBS[0], 7)  # newer usage arrives meanwhile
    assert metering.feed_all() == 3  # the same batch again (deduped), then the new record
    assert metering.meter_usage(SUBS[0], PERIOD)["rows"] == 107
    assert metering.meter_usage(SUBS[1], PERIOD)["rows"] == 40
    assert metering.meter_usage(SUBS[0], PERIOD)["batches"] == 2


def test_a_crash_after_claiming_and_before_saving_loses_nothing(metering: Metering) -> None:
    serve(metering.ledger, SUBS[0], 100)
    assert metering.ledger.claim_feed_batch(100, grace_seconds=0) is not None  # then "dies"
    assert metering.feed() == 1
    assert metering.meter_usage(SUBS[0], PERIOD)["rows"] == 100


def test_meter_totals_equal_the_ledger_after_settlements(metering: Metering) -> None:
    ledger = metering.ledger
    for i in range(30):
        serve(ledger, SUBS[i % 2], 100, served=100 - i)
    metering.feed_all(limit=7)
    for subject in SUBS:
        meter, counted = metering.meter_usage(subject, PERIOD), ledger.usage(subject, PERIOD)
        assert (meter["rows"], meter["calls"], meter["bytes"]) == (
            counted["rows"], counted["calls"], counted["bytes"])
    day = ledger.daily_usage(from_day="2026-11-20", to_day="2026-11-20", asset_id="asset-1")
    assert sum(d["rows"] for d in day) == sum(ledger.usage(s, PERIOD)["rows"] for s in SUBS)


def test_anonymous_usage_reaches_the_daily_report_but_keeps_no_meter(metering: Metering) -> None:
    serve(metering.ledger, "anon:10.1.2.3", 20)
    assert metering.feed() == 1
    assert metering.meter_usage("anon:10.1.2.3", PERIOD) is None
    assert [d["rows"] for d in metering.ledger.daily_usage(from_day="2026-11-20", to_day="2026-11-20")] == [20]


def test_only_one_feeder_works_at_a_time(metering: Metering) -> None:
    serve(metering.ledger, SUBS[0], 1)
    with metering.ledger.feed_lock() as held:
        assert held
        assert metering.feed() == 0
    assert metering.feed() == 1


def test_the_background_feeder_feeds_until_stopped(metering: Metering) -> None:
    serve(metering.ledger, SUBS[0], 9)
    metering.start(poll_seconds=0.01)
    try:
        wait_until(lambda: metering.meter_usage(SUBS[0], PERIOD), what="the feeder to feed")
    finally:
        metering.stop()
    assert metering.meter_usage(SUBS[0], PERIOD)["rows"] == 9
