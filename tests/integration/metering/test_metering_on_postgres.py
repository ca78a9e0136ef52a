"""The whole metering path on PostgreSQL: ledger and event store in one schema."""

from __future__ import annotations

from datetime import datetime

import pytest

from domain.metering import CHINA, UsageMeter
from marketplace.services.metering import Metering
from marketplace.services.persistence import EventStoreConfig, PostgresParams

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=CHINA)


@pytest.mark.postgres
def test_many_meters_are_fed_in_one_save_and_equal_the_ledger(postgres_url: str, postgres_schema: str) -> None:
    from marketplace.metering import PostgresQuotaLedger

    pg = PostgresParams.from_url(f"{postgres_url}?schema={postgres_schema}")
    ledger = PostgresQuotaLedger(pg.conninfo, postgres_schema)
    app = Metering(EventStoreConfig(kind="postgres", postgres=pg).env_for(Metering.name),
                   ledger=ledger, grace_seconds=0)
    try:
        subjects = [str(UsageMeter.create_id(f"sub{i}", "x")) for i in range(50)]
        for round_ in range(4):
            for s in subjects:
                ledger.reserve(s, "2026-11", rows_wanted=10 + round_, rows_quota=1000, calls_quota=None,
                               rate_limit_per_minute=None, now=NOW, final=True)
        before = app.recorder.max_notification_id() or 0
        assert app.feed(limit=10_000) == 200
        assert app.recorder.max_notification_id() - before == 100  # 50 opened + 50 recorded
        assert all(app.meter_usage(s, "2026-11")["rows"] == ledger.usage(s, "2026-11")["rows"] == 46
                   for s in subjects)
    finally:
        app.close()
        ledger.close()


@pytest.mark.postgres
def test_a_session_that_lost_the_prepared_statements_prepares_them_again(postgres_url: str,
                                                                          postgres_schema: str) -> None:
    """A new backend can reuse an old one's pid: the ledger then finds its statements missing,
    prepares them again and the reservation goes through, counted once."""
    from marketplace.metering import PostgresQuotaLedger

    ledger = PostgresQuotaLedger(postgres_url, postgres_schema, group_commit=False, pool_size=1)
    try:
        def reserve():
            return ledger.reserve("sub-a", "2026-11", rows_wanted=5, rows_quota=100, calls_quota=None,
                                  rate_limit_per_minute=None, now=NOW, final=True)

        assert reserve().rows_used == 5
        with ledger.pool.connection() as one, ledger.pool.connection() as other:  # the whole pool
            for conn in (one, other):
                conn.execute("DEALLOCATE ALL")
        assert reserve().rows_used == 10
        assert ledger.usage("sub-a", "2026-11")["rows"] == 10
    finally:
        ledger.close()
