"""A quota ledger on every backend: a SQLite file and a PostgreSQL schema of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from marketplace.metering import QuotaLedger, SQLiteQuotaLedger


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[QuotaLedger]:
    if request.param == "sqlite":
        built: QuotaLedger = SQLiteQuotaLedger(tmp_path / "ledger.sqlite3")
    else:
        from marketplace.metering import PostgresQuotaLedger

        url = request.getfixturevalue("postgres_url")
        built = PostgresQuotaLedger(url, request.getfixturevalue("postgres_schema"))
    try:
        yield built
    finally:
        built.close()
