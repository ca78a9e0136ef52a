"""用量计量: what one subscription was served in one calendar month (China time).

One small aggregate per (subscription, period) — never one ever-growing stream — with snapshots.
The service records usage in *batches* (many served requests group-committed as one event), each
with a unique batch id; a batch id seen among the last ``DEDUPE_WINDOW`` batches of the period is
not counted again, so a retried save never double-counts. The window is bounded so that state
stays small however many batches a month brings; a retry must therefore come before a thousand
newer batches (in practice it comes within seconds).

Metering never refuses: a response that was served must be metered. Quota *decisions* are made
before serving, with ``remaining()`` / ``would_exceed()``; usage beyond the quota (a plan with
overage "bill", or races between workers) is recorded and shows as ``rows_over`` / ``calls_over``
for billing.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.calendar import CHINA
from domain.errors import InvalidInputError
from domain.ids import natural_id

DEDUPE_WINDOW = 1000
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_BATCH_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def check_period(period: str) -> tuple[int, int]:
    """(year, month) of a ``YYYY-MM`` period; InvalidInputError otherwise."""
    if not isinstance(period, str):
        raise InvalidInputError(f"period {period!r} is not YYYY-MM", field="period")
    return _year_month(period)


@lru_cache(maxsize=256)  # asked on every metered request, of the same few months
def _year_month(period: str) -> tuple[int, int]:
    match = _PERIOD.match(period)
    if not match:
        raise InvalidInputError(f"period {period!r} is not YYYY-MM", field="period")
    return int(match.group(1)), int(match.group(2))


def period_of(moment: datetime) -> str:
    """The metering period (``YYYY-MM``, China time) that ``moment`` falls in."""
    if moment.tzinfo is None:
        raise ValueError("a metering moment needs a timezone")
    local = moment.astimezone(CHINA)
    return f"{local.year:04d}-{local.month:02d}"


@lru_cache(maxsize=256)
def period_reset_at(period: str) -> datetime:
    """When the period's quotas reset: the first day of the next month, 00:00 China time."""
    year, month = check_period(period)
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, 1, tzinfo=CHINA)


class UsageMeter(Aggregate):
    """Rows, calls and bytes served to one subscription in one month, against its quotas."""

    @staticmethod
    def create_id(subscription_id: str, period: str) -> UUID:
        return natural_id("usage-meter", f"{subscription_id}:{period}")

    @classmethod
    def open(cls, *, subscription_id: str, period: str, rows_quota: int | None,
             calls_quota: int | None) -> "UsageMeter":
        """Open the month's meter with the subscription's quotas (None: unlimited).

        :param subscription_id: the subscription metered
        :param period: ``YYYY-MM`` in China time (``period_of(now)``)
        :param rows_quota: ``Entitlement.rows_per_month``
        :param calls_quota: ``Entitlement.calls_per_month``
        """
        check_period(period)
        for name, quota in (("rows_quota", rows_quota), ("calls_quota", calls_quota)):
            if quota is not None and (not _count(quota) or quota <= 0):
                raise InvalidInputError(f"{name} is a positive whole number or None", field=name)
        return cls(subscription_id=str(subscription_id), period=period, rows_quota=rows_quota,
                   calls_quota=calls_quota)

    @event("Opened")
    def __init__(self, subscription_id: str, period: str, rows_quota: int | None,
                 calls_quota: int | None) -> None:
        self.subscription_id = subscription_id
        self.period = period
        self.rows_quota = rows_quota
        self.calls_quota = calls_quota
        self.rows = 0
        self.calls = 0
        self.bytes_served = 0
        self.batches = 0
        self.recent_batch_ids: list[str] = []  # at most DEDUPE_WINDOW, oldest first

    # ---- queries -------------------------------------------------------------------------

    @property
    def reset_at(self) -> datetime:
        return period_reset_at(self.period)

    @property
    def rows_over(self) -> int:
        return 0 if self.rows_quota is None else max(0, self.rows - self.rows_quota)

    @property
    def calls_over(self) -> int:
        return 0 if self.calls_quota is None else max(0, self.calls - self.calls_quota)

    def remaining(self) -> dict[str, int | None]:
        """Rows and calls left this period (None: unlimited; never negative)."""
        return {"rows": None if self.rows_quota is None else max(0, self.rows_quota - self.rows),
                "calls": None if self.calls_quota is None else max(0, self.calls_quota - self.calls)}

    def would_exceed(self, rows: int = 0, calls: int = 0) -> bool:
        """True when serving ``rows`` and ``calls`` more would pass a quota."""
        return ((self.rows_quota is not None and self.rows + rows > self.rows_quota)
                or (self.calls_quota is not None and self.calls + calls > self.calls_quota))

    def has_recorded(self, batch_id: str) -> bool:
        return batch_id in self.recent_batch_ids

    # ---- commands ------------------------------------------------------------------------

    def record(self, batch_id: str, *, rows: int, calls: int, bytes_served: int = 0) -> bool:
        """Count one batch of served usage; False (and nothing changed) when the batch was
        already counted. Never refused for being over quota."""
        if not isinstance(batch_id, str) or not _BATCH_ID.match(batch_id):
            raise InvalidInputError("a batch id is 1 to 64 letters, digits or '_.:-'", field="batch_id")
        for name, value in (("rows", rows), ("calls", calls), ("bytes_served", bytes_served)):
            if not _count(value) or value < 0:
                raise InvalidInputError(f"{name} is a whole number, 0 or more", field=name)
        if self.has_recorded(batch_id):
            return False
        self._recorded(batch_id=batch_id, rows=rows, calls=calls, bytes_served=bytes_served)
        return True

    @event("Recorded")
    def _recorded(self, batch_id: str, rows: int, calls: int, bytes_served: int) -> None:
        self.rows += rows
        self.calls += calls
        self.bytes_served += bytes_served
        self.batches += 1
        self.recent_batch_ids.append(batch_id)
        if len(self.recent_batch_ids) > DEDUPE_WINDOW:
            del self.recent_batch_ids[: len(self.recent_batch_ids) - DEDUPE_WINDOW]

    def usage(self) -> dict[str, Any]:
        """The period's figures as plain values (for billing and the usage page)."""
        return {"subscription_id": self.subscription_id, "period": self.period, "rows": self.rows,
                "calls": self.calls, "bytes": self.bytes_served, "rows_quota": self.rows_quota,
                "calls_quota": self.calls_quota, "rows_over": self.rows_over,
                "calls_over": self.calls_over, "batches": self.batches}


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
