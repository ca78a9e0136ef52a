"""Quotas are exact under concurrency, and no served row goes unmetered across kill -9."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from domain.metering import period_of
from marketplace.metering import QuotaLedger, SQLiteQuotaLedger
from marketplace.services.metering import Metering
from support.waiting import wait_until

SUB = "5b3c2e74-6b2a-5d3c-9c5b-3c2d1e4f9a33"
QUOTA = 10_000


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[QuotaLedger]:
    if request.param == "sqlite":
        built: QuotaLedger = SQLiteQuotaLedger(tmp_path / "ledger.sqlite3")
    else:
        from marketplace.metering import PostgresQuotaLedger

        built = PostgresQuotaLedger(request.getfixturevalue("postgres_url"),
                                    request.getfixturevalue("postgres_schema"))
    try:
        yield built
    finally:
        built.close()


def hammer(ledger: QuotaLedger, page: int, threads: int = 32) -> tuple[int, int]:
    """Every thread asks for pages until refused; (rows granted, refusals)."""
    now = datetime.now(timezone.utc)
    granted: list[int] = []
    refusals: list[int] = []
    errors: list[BaseException] = []

    def client() -> None:
        try:
            while True:
                grant = ledger.reserve(SUB, period_of(now), rows_wanted=page, rows_quota=QUOTA,
                                       calls_quota=None, rate_limit_per_minute=None, now=now)
                if not grant.allowed:
                    assert grant.refusal == "quota"
                    refusals.append(1)
                    return
                granted.append(grant.granted_rows)
        except BaseException as exc:  # asserted below
            errors.append(exc)

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    return sum(granted), len(refusals)


@pytest.mark.parametrize("page", [100, 37])
def test_32_threads_receive_exactly_the_quota(ledger: QuotaLedger, page: int) -> None:
    rows, refusals = hammer(ledger, page)
    assert rows == QUOTA
    assert refusals == 32
    assert ledger.usage(SUB, period_of(datetime.now(timezone.utc)))["rows"] == QUOTA


def test_32_threads_without_group_commit_receive_exactly_the_quota(tmp_path: Path) -> None:
    ledger = SQLiteQuotaLedger(tmp_path / "ledger.sqlite3", group_commit=False)
    try:
        assert hammer(ledger, 37) == (QUOTA, 32)
    finally:
        ledger.close()


def _process_client(url: str, schema: str, page: int, out) -> None:
    from marketplace.metering import PostgresQuotaLedger

    ledger = PostgresQuotaLedger(url, schema, create_tables=False)
    try:
        out.put(hammer(ledger, page, threads=8))
    finally:
        ledger.close()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("page", [100, 37])
def test_4_processes_of_8_threads_receive_exactly_the_quota(postgres_url: str, postgres_schema: str,
                                                            page: int) -> None:
    from marketplace.metering import PostgresQuotaLedger

    ledger = PostgresQuotaLedger(postgres_url, postgres_schema)  # tables once, like a migrate
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_process_client, args=(postgres_url, postgres_schema, page, out))
             for _ in range(4)]
    try:
        for p in procs:
            p.start()
        results = [out.get(timeout=120) for _ in procs]
        for p in procs:
            p.join(timeout=30)
        assert sum(r[0] for r in results) == QUOTA
        assert sum(r[1] for r in results) == 32
        assert ledger.usage(SUB, period_of(datetime.now(timezone.utc)))["rows"] == QUOTA
    finally:
        ledger.close()


def _serving_worker(path: str, served_log: str) -> None:
    """Reserve, 'serve' (append the rows to a log the client side keeps), settle short pages."""
    ledger = SQLiteQuotaLedger(path)
    with open(served_log, "a", buffering=1) as log:
        n = 0
        while True:
            now = datetime.now(timezone.utc)
            grant = ledger.reserve(SUB, period_of(now), rows_wanted=50, rows_quota=None,
                                   calls_quota=None, rate_limit_per_minute=None, now=now)
            served = 50 - (n % 7)
            log.write(f"{served}\n")  # received by the client
            ledger.settle(grant, rows_served=served)
            n += 1


@pytest.mark.slow
def test_a_worker_killed_under_load_leaves_no_served_row_unmetered_or_counted_twice(tmp_path: Path) -> None:
    path, served_log = str(tmp_path / "ledger.sqlite3"), str(tmp_path / "served.log")
    SQLiteQuotaLedger(path).close()
    ctx = multiprocessing.get_context("spawn")
    worker = ctx.Process(target=_serving_worker, args=(path, served_log))
    worker.start()
    # Kill it under load: once it has served (and logged) hundreds of pages. A worker that
    # died on its own would never get there: fail at once, not at the deadline.
    def serving() -> bool:
        assert worker.is_alive(), f"the serving worker exited with {worker.exitcode}"
        return os.path.exists(served_log) and os.path.getsize(served_log) >= 2_000

    wait_until(serving, what="the worker to serve under load", interval=0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.join()
    received = sum(int(line) for line in Path(served_log).read_text().split())
    assert received > 0
    ledger = SQLiteQuotaLedger(path)  # "restart"
    metering = Metering({"PERSISTENCE_MODULE": "eventsourcing.popo"}, ledger=ledger, grace_seconds=0)
    try:
        metering.feed_all(limit=500)
        period = period_of(datetime.now(timezone.utc))
        counted = ledger.usage(SUB, period)
        meter = metering.meter_usage(SUB, period)
        assert counted["rows"] >= received
        assert counted["rows"] - received <= 50  # at most the page in flight when killed
        assert (meter["rows"], meter["calls"]) == (counted["rows"], counted["calls"])
        assert metering.feed_all() == 0
    finally:
        metering.close()
        ledger.close()
