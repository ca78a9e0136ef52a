"""One worker process never opens more PostgreSQL connections than its budget
(``persistence.CONNECTIONS_PER_WORKER``), however many request threads press on its pools: 4
workers once exhausted PostgreSQL's 100 connections ("sorry, too many clients already")."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from marketplace.bootstrap import DataBank, build
from marketplace.services.persistence import CONNECTIONS_PER_WORKER
from marketplace.settings import Settings

pytestmark = pytest.mark.postgres


def _open_connections_to(port: int) -> int:
    """TCP connections this process holds to ``port`` (Linux: its socket fds in /proc/net/tcp*)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if remote_port == port and fields[3] == "01" and fields[9] in inodes:  # 01: established
                    count += 1
    return count


@pytest.fixture
def baseline(postgres_url: str, postgres_schema: str) -> int:
    """This process's connections before the bank opens any (the fixtures' own have closed)."""
    from marketplace.services.persistence import PostgresParams

    return _open_connections_to(PostgresParams.from_url(postgres_url).port)


@pytest.fixture
def bank(baseline: int, postgres_url: str, postgres_schema: str, tmp_path: Path) -> Iterator[DataBank]:
    built = build(Settings(data_dir=tmp_path, database_url=f"{postgres_url}?schema={postgres_schema}"),
                  fast_hashing=True)
    try:
        yield built
    finally:
        built.close()


def test_a_worker_under_many_threads_stays_within_its_connection_budget(bank: DataBank,
                                                                       baseline: int) -> None:
    from marketplace.services.persistence import PostgresParams

    port = PostgresParams.from_url(bank.settings.database_url or "").port
    assert bank.billing is not None
    event_stores = [app.recorder.datastore.pool for app in  # type: ignore[attr-defined]
                    (bank.catalogue, bank.staff, bank.market, bank.metering, bank.billing.records)]
    pools = [bank.datastore._pool, bank.ledger.pool,  # type: ignore[attr-defined]
             bank.catalogue_view.pool, bank.entitlements_view.pool, *event_stores]  # type: ignore[attr-defined]
    peak = 0
    pressing = threading.Event()

    def hold(pool: object) -> None:
        pressing.wait()
        for _ in range(3):
            with pool.connection(timeout=30) as conn:  # type: ignore[attr-defined]
                conn.execute("SELECT pg_sleep(0.1)")

    def feed_lock() -> None:
        pressing.wait()
        with bank.ledger.feed_lock():  # type: ignore[attr-defined]
            time.sleep(0.2)

    threads = [threading.Thread(target=hold, args=(pool,)) for pool in pools for _ in range(6)]
    threads.append(threading.Thread(target=feed_lock))
    for thread in threads:
        thread.start()
    pressing.set()
    while any(thread.is_alive() for thread in threads):
        peak = max(peak, _open_connections_to(port) - baseline)
        time.sleep(0.005)
    for thread in threads:
        thread.join()
    # Every pool was pressed past its ceiling: the worker reached its budget, and not one more.
    assert peak <= CONNECTIONS_PER_WORKER
    assert peak >= CONNECTIONS_PER_WORKER - 2  # the pressure was real (idle-close may race)
