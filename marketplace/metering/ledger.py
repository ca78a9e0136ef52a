"""The quota ledger: exact quota reservations and the durable usage outbox of the access path.

One ``reserve`` is one decision made atomically in the ledger's database: it checks and
increments the (subject, period) row and call counters and the per-minute window, and inserts the
usage record (the outbox the ``Metering`` application feeds into ``UsageMeter`` events) in the
SAME transaction. A reservation that returned is therefore durable before a single row is
served, so a worker killed after serving leaves its usage behind (metered ≥ served), and the
counters are exact however many threads, processes and machines reserve at once.

This module holds the value types, the ``QuotaLedger`` port, the validation and the decision
that every backend applies to the counters it locked. Throughput (group commit) is in
``group_commit``; what the SQL backends share (report queries, row mapping) in ``sql``.

Subjects are subscription ids, or ``anon:<ip>`` for anonymous callers (a fixed small quota).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol, Sequence, TypedDict

from domain.errors import InvalidInputError
from domain.licensing import Overage
from domain.metering import CHINA, check_period, period_reset_at

OVERAGE_POLICIES = tuple(Overage)
MAX_SUBJECT = 200


class Refusal(StrEnum):
    """Why a reservation was refused; a StrEnum so it still equals (and prints as) its value."""

    QUOTA = "quota"  # QUOTA_EXCEEDED: the period's rows or calls are used up
    RATE = "rate"  # RATE_LIMITED: this minute's calls are used up


class QuotaTerms(TypedDict):
    """The terms a reservation is decided under: ``QuotaLedger.reserve``'s keyword arguments,
    as the access path derives them from a subscription (or the anonymous allowance).

    None: unlimited (no quota of rows or calls, no rate limit).
    """

    rows_quota: int | None
    calls_quota: int | None
    rate_limit_per_minute: int | None
    overage: Overage


class QuotaExtension(TypedDict):
    """``extensions.quota`` of a data response (the public contract's camelCase names)."""

    rowsRemaining: int | None
    callsRemaining: int | None
    rowsUsed: int
    callsUsed: int
    resetAt: str
    rateLimit: int | None
    rateRemaining: int | None


@dataclass(frozen=True)
class Grant:
    """The answer to one reservation.

    :ivar granted_rows: rows the caller may serve (≤ rows_wanted; fewer at the quota's edge, so
        the last page is truncated and the quota is hit exactly; 0 when refused)
    :ivar refusal: None, ``Refusal.QUOTA`` (QUOTA_EXCEEDED) or ``Refusal.RATE`` (RATE_LIMITED)
    :ivar rows_remaining: rows left this period after this grant (None: unlimited)
    :ivar retry_after_seconds: for a refusal, seconds until asking again can succeed
        (``rate``: to the next minute window; ``quota``: to ``reset_at``); 0 when allowed
    :ivar record_id: the durable usage record (None when refused: nothing was used)
    :ivar rate_remaining: calls left in this minute window (None: no rate limit)
    """

    subject: str
    period: str
    granted_rows: int
    allowed: bool
    refusal: Refusal | None
    rows_used: int
    calls_used: int
    rows_remaining: int | None
    calls_remaining: int | None
    reset_at: datetime
    retry_after_seconds: int
    record_id: str | None
    rate_limit_per_minute: int | None = None
    rate_remaining: int | None = None

    def quota_extension(self) -> QuotaExtension:
        """The ``extensions.quota`` object of a data response."""
        return {"rowsRemaining": self.rows_remaining, "callsRemaining": self.calls_remaining,
                "rowsUsed": self.rows_used, "callsUsed": self.calls_used,
                "resetAt": self.reset_at.isoformat(), "rateLimit": self.rate_limit_per_minute,
                "rateRemaining": self.rate_remaining}


@dataclass(frozen=True)
class Reservation:
    """One reservation request (validated); what the committer applies."""

    subject: str
    period: str
    rows_wanted: int
    rows_quota: int | None
    calls_quota: int | None
    rate_limit_per_minute: int | None
    overage: Overage
    now: datetime
    asset_id: str | None = None
    department_id: str | None = None
    organisation_id: str | None = None
    bytes_estimate: int = 0
    final: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.subject, self.period)

    @property
    def day(self) -> str:
        return self.now.astimezone(CHINA).date().isoformat()


@dataclass(frozen=True)
class Settlement:
    """Give back what a grant did not serve, and store the bytes served."""

    subject: str
    period: str
    record_id: int
    granted_rows: int
    rows_served: int
    bytes_served: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.subject, self.period)


@dataclass(frozen=True)
class UsageRecord:
    """One outbox record as the feed reads it."""

    id: int
    subject: str
    period: str
    rows: int
    calls: int
    bytes: int
    day: str
    asset_id: str | None
    department_id: str | None
    organisation_id: str | None


@dataclass(frozen=True)
class FeedBatch:
    """Records claimed for one feed (a fixed set: re-feeding it after a crash sees the same set).

    :ivar quotas: (rows_quota, calls_quota) per (subject, period), as last reserved
    """

    number: int
    records: list[UsageRecord]
    quotas: dict[tuple[str, str], tuple[int | None, int | None]] = field(default_factory=dict)


class QuotaLedger(Protocol):
    """The port the access path and the Metering application use."""

    def reserve(self, subject: str, period: str, *, rows_wanted: int, rows_quota: int | None,
                calls_quota: int | None, rate_limit_per_minute: int | None,
                overage: Overage | str = Overage.BLOCK, now: datetime,
                asset_id: str | None = None, department_id: str | None = None,
                organisation_id: str | None = None, bytes_estimate: int = 0,
                final: bool = False) -> Grant: ...

    def settle(self, grant: Grant, *, rows_served: int, bytes_served: int = 0) -> bool: ...

    def usage(self, subject: str, period: str) -> dict[str, Any]: ...

    def daily_usage(self, *, from_day: date | str, to_day: date | str, subject: str | None = None,
                    organisation_id: str | None = None, asset_id: str | None = None,
                    department_id: str | None = None) -> list[dict[str, Any]]: ...

    def feed_lock(self) -> AbstractContextManager[bool]: ...

    def pending_feed_batch(self) -> FeedBatch | None: ...

    def claim_feed_batch(self, limit: int, *, grace_seconds: float) -> FeedBatch | None: ...

    def mark_fed(self, batch_number: int) -> int: ...

    def fed_batches(self, *, subjects_not_like: str = "anon:%") -> Iterator[FeedBatch]: ...

    def close(self) -> None: ...


# ---- the decision (shared by every backend) --------------------------------------------------

@dataclass
class CounterState:
    """A (subject, period) row as locked inside the transaction."""

    rows: int = 0
    calls: int = 0
    bytes: int = 0
    win_minute: int = 0
    win_calls: int = 0
    rows_quota: int | None = None
    calls_quota: int | None = None
    changed: bool = False


def epoch_minute(moment: datetime) -> int:
    return int(moment.timestamp() // 60)


def decide(state: CounterState, req: Reservation) -> tuple[int, Refusal | None]:
    """Apply one reservation to a locked counter; (granted_rows, refusal). Mutates ``state``."""
    minute = epoch_minute(req.now)
    if minute > state.win_minute:  # a clock behind another worker's stays in the newer window
        state.win_minute, state.win_calls = minute, 0
        state.changed = True
    state.rows_quota, state.calls_quota = req.rows_quota, req.calls_quota
    if req.rate_limit_per_minute is not None and state.win_calls >= req.rate_limit_per_minute:
        return 0, Refusal.RATE
    granted = req.rows_wanted
    if req.overage == Overage.BLOCK:
        if req.calls_quota is not None and state.calls >= req.calls_quota:
            return 0, Refusal.QUOTA
        if req.rows_quota is not None:
            left = req.rows_quota - state.rows
            if left <= 0 and req.rows_wanted > 0:
                return 0, Refusal.QUOTA
            granted = min(req.rows_wanted, max(left, 0))
    state.rows += granted
    state.calls += 1
    state.win_calls += 1
    state.bytes += req.bytes_estimate
    state.changed = True
    return granted, None


def make_grant(state: CounterState, req: Reservation, granted: int, refusal: Refusal | None,
               record_id: int | None) -> Grant:
    reset_at = period_reset_at(req.period)
    if refusal == Refusal.RATE:
        retry = max(1, math.ceil(60 - req.now.timestamp() % 60))
    elif refusal == Refusal.QUOTA:
        retry = max(1, math.ceil((reset_at - req.now).total_seconds()))
    else:
        retry = 0
    rate = req.rate_limit_per_minute
    return Grant(
        subject=req.subject, period=req.period, granted_rows=granted, allowed=refusal is None,
        refusal=refusal, rows_used=state.rows, calls_used=state.calls,
        rows_remaining=None if req.rows_quota is None else max(0, req.rows_quota - state.rows),
        calls_remaining=None if req.calls_quota is None else max(0, req.calls_quota - state.calls),
        reset_at=reset_at, retry_after_seconds=retry,
        record_id=None if record_id is None else str(record_id), rate_limit_per_minute=rate,
        rate_remaining=None if rate is None else max(0, rate - state.win_calls))


def settle_state(state: CounterState, op: Settlement, recorded_rows: int, recorded_bytes: int) -> None:
    """Give back the unserved rows of a record that is still unclaimed by the feed."""
    state.rows -= max(0, recorded_rows - op.rows_served)
    state.bytes += op.bytes_served - recorded_bytes
    state.changed = True


# ---- validation ----------------------------------------------------------------------------

def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_reservation(subject: str, period: str, *, rows_wanted: int, rows_quota: int | None,
                      calls_quota: int | None, rate_limit_per_minute: int | None,
                      overage: Overage | str, now: datetime, asset_id: str | None, department_id: str | None,
                      organisation_id: str | None, bytes_estimate: int, final: bool) -> Reservation:
    if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT:
        raise InvalidInputError("a metering subject is 1 to 200 characters", field="subject")
    check_period(period)
    if not _whole(rows_wanted) or rows_wanted < 0:
        raise InvalidInputError("rows_wanted is a whole number, 0 or more", field="rows_wanted")
    if not _whole(bytes_estimate) or bytes_estimate < 0:
        raise InvalidInputError("bytes_estimate is a whole number, 0 or more", field="bytes_estimate")
    for name, value in (("rows_quota", rows_quota), ("calls_quota", calls_quota),
                        ("rate_limit_per_minute", rate_limit_per_minute)):
        if value is not None and (not _whole(value) or value < 0):
            raise InvalidInputError(f"{name} is a whole number, 0 or more, or None", field=name)
    if overage not in OVERAGE_POLICIES:
        raise InvalidInputError("overage is 'block' or 'bill'", field="overage")
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise InvalidInputError("now is a datetime with a timezone", field="now")
    return Reservation(subject, period, rows_wanted, rows_quota, calls_quota, rate_limit_per_minute,
                       Overage(overage), now, asset_id, department_id, organisation_id,
                       bytes_estimate, bool(final))


def check_settlement(grant: Grant, rows_served: int, bytes_served: int) -> Settlement | None:
    """The settlement to write, or None when there is nothing to write (refused, or all the
    granted rows were served: the bytes then stay the reservation's estimate)."""
    if not _whole(rows_served) or rows_served < 0:
        raise InvalidInputError("rows_served is a whole number, 0 or more", field="rows_served")
    if not _whole(bytes_served) or bytes_served < 0:
        raise InvalidInputError("bytes_served is a whole number, 0 or more", field="bytes_served")
    if rows_served > grant.granted_rows:
        raise InvalidInputError("more rows served than granted", field="rows_served")
    if not grant.allowed or grant.record_id is None or rows_served == grant.granted_rows:
        return None
    return Settlement(grant.subject, grant.period, int(grant.record_id), grant.granted_rows,
                      rows_served, bytes_served)


# ---- usage records ------------------------------------------------------------------------

def group_records(records: Sequence[UsageRecord]) -> Iterator[tuple[tuple[str, str], list[UsageRecord]]]:
    """Records by (subject, period), in first-seen order: one meter (or invoice line) each."""
    groups: dict[tuple[str, str], list[UsageRecord]] = {}
    for record in records:
        groups.setdefault((record.subject, record.period), []).append(record)
    yield from groups.items()


__all__ = ["CounterState", "FeedBatch", "Grant", "QuotaExtension", "QuotaLedger", "QuotaTerms", "Refusal",
           "Reservation", "Settlement", "UsageRecord", "check_reservation", "check_settlement", "decide",
           "group_records", "make_grant", "settle_state"]
