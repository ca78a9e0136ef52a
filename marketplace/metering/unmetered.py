"""A ledger that grants everything and records nothing: for measuring what metering costs
(bench/access_bench.py), never for serving. bootstrap only builds it when
``DATABANK_UNSAFE_UNMETERED_FOR_BENCHMARKS=1`` is set, and says so loudly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from domain.licensing import Overage
from domain.metering import period_reset_at
from marketplace.metering.ledger import Grant


class UnmeteredLedger:
    """Every reservation granted in full; no counters, no usage records, no quota."""

    def reserve(self, subject: str, period: str, *, rows_wanted: int, rows_quota: int | None,
                calls_quota: int | None, rate_limit_per_minute: int | None,
                overage: Overage | str = Overage.BLOCK, now: datetime, **_: Any) -> Grant:
        return Grant(subject=subject, period=period, granted_rows=rows_wanted, allowed=True,
                     refusal=None, rows_used=0, calls_used=0, rows_remaining=None,
                     calls_remaining=None, reset_at=period_reset_at(period), retry_after_seconds=0,
                     record_id=None)

    def settle(self, grant: Grant, *, rows_served: int, bytes_served: int = 0) -> bool:
        return False

    def usage(self, subject: str, period: str) -> dict[str, Any]:
        return {"rows": 0, "calls": 0, "bytes": 0}

    def daily_usage(self, *, from_day: date | str, to_day: date | str, **_: Any) -> list[dict[str, Any]]:
        return []

    def fed_batches(self, **_: Any) -> Iterator[Any]:
        return iter(())

    def close(self) -> None:
        """Nothing to close."""
