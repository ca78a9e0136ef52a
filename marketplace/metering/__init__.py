"""Exact quotas and durable usage metering for the data access path.

``QuotaLedger`` is the port; ``SQLiteQuotaLedger`` and ``PostgresQuotaLedger`` the adapters.
The ``Metering`` application (marketplace.services.metering) feeds the ledger's usage records
into ``UsageMeter`` aggregates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from marketplace.metering.ledger import (
    FeedBatch,
    Grant,
    QuotaLedger,
    QuotaTerms,
    Refusal,
    UsageRecord,
)
from marketplace.metering.sqlite_ledger import SQLiteQuotaLedger

if TYPE_CHECKING:
    from marketplace.metering.postgres_ledger import PostgresQuotaLedger

__all__ = ["FeedBatch", "Grant", "PostgresQuotaLedger", "QuotaLedger", "QuotaTerms", "Refusal",
           "SQLiteQuotaLedger", "UsageRecord"]


def __getattr__(name: str) -> type[PostgresQuotaLedger]:  # psycopg only when PostgreSQL is used
    if name == "PostgresQuotaLedger":
        from marketplace.metering.postgres_ledger import PostgresQuotaLedger

        return PostgresQuotaLedger
    raise AttributeError(name)
