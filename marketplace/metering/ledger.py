"""The quota ledger: exact quota reservations and the durable usage outbox of the access path.

One ``reserve`` is one decision made atomically in the ledger's database: it checks and
increments the (subject, period) row and call counters and the per-minute window, and inserts the
usage record (the outbox the ``Metering`` application feeds into ``UsageMeter`` events) in the
SAME transaction. A reservation that returned is therefore durable before a single row is
served, so a worker killed after serving leaves its usage behind (metered ≥ served), and the
counters are exact however many threads, processes and machines reserve at once.

Throughput comes from group commit: the reservations (and settlements) of one process queue for
one committer thread, which applies everything queued — in arrival order, each decision seeing
the ones before it — in one transaction and then wakes every caller. There is no added wait:
while one transaction commits the next requests pile up, so the batch grows with the load and a
lone request is committed at once.

Subjects are subscription ids, or ``anon:<ip>`` for anonymous callers (a fixed small quota).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol, Sequence

from domain.errors import InvalidInputError
from domain.metering import CHINA, check_period, period_reset_at

OVERAGE_POLICIES = ("block", "bill")
MAX_SUBJECT = 200


@dataclass(frozen=True)
class Grant:
    """The answer to one reservation.

    :ivar granted_rows: rows the caller may serve (≤ rows_wanted; fewer at the quota's edge, so
        the last page is truncated and the quota is hit exactly; 0 when refused)
    :ivar refusal: None, ``"quota"`` (QUOTA_EXCEEDED) or ``"rate"`` (RATE_LIMITED)
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
    refusal: str | None
    rows_used: int
    calls_used: int
    rows_remaining: int | None
    calls_remaining: int | None
    reset_at: datetime
    retry_after_seconds: int
    record_id: str | None
    rate_limit_per_minute: int | None = None
    rate_remaining: int | None = None

    def quota_extension(self) -> dict[str, Any]:
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
    overage: str
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
                calls_quota: int | None, rate_limit_per_minute: int | None, overage: str = "block",
                now: datetime, asset_id: str | None = None, department_id: str | None = None,
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


def decide(state: CounterState, req: Reservation) -> tuple[int, str | None]:
    """Apply one reservation to a locked counter; (granted_rows, refusal). Mutates ``state``."""
    minute = epoch_minute(req.now)
    if minute > state.win_minute:  # a clock behind another worker's stays in the newer window
        state.win_minute, state.win_calls = minute, 0
        state.changed = True
    state.rows_quota, state.calls_quota = req.rows_quota, req.calls_quota
    if req.rate_limit_per_minute is not None and state.win_calls >= req.rate_limit_per_minute:
        return 0, "rate"
    granted = req.rows_wanted
    if req.overage == "block":
        if req.calls_quota is not None and state.calls >= req.calls_quota:
            return 0, "quota"
        if req.rows_quota is not None:
            left = req.rows_quota - state.rows
            if left <= 0 and req.rows_wanted > 0:
                return 0, "quota"
            granted = min(req.rows_wanted, max(left, 0))
    state.rows += granted
    state.calls += 1
    state.win_calls += 1
    state.bytes += req.bytes_estimate
    state.changed = True
    return granted, None


def make_grant(state: CounterState, req: Reservation, granted: int, refusal: str | None,
               record_id: int | None) -> Grant:
    reset_at = period_reset_at(req.period)
    if refusal == "rate":
        retry = max(1, math.ceil(60 - req.now.timestamp() % 60))
    elif refusal == "quota":
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
                      calls_quota: int | None, rate_limit_per_minute: int | None, overage: str,
                      now: datetime, asset_id: str | None, department_id: str | None,
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
                       overage, now, asset_id, department_id, organisation_id, bytes_estimate,
                       bool(final))


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


# ---- group commit --------------------------------------------------------------------------

class _Slot:
    __slots__ = ("op", "result", "error", "done")

    def __init__(self, op: Any) -> None:
        self.op = op
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Lock()
        self.done.acquire()


class GroupCommitter:
    """Applies queued operations in batches on one thread, in arrival order.

    :param apply: runs one batch in one transaction; returns one result per operation, or raises
        (then every caller of the batch gets the exception: nothing of it was committed, or the
        outcome is unknown — either way the caller serves nothing)
    :param max_batch: operations per transaction at most
    :param threads: committer threads (each its own transaction; while one waits on the
        network or the disk, the next gathers its batch). Exactness does not depend on it:
        the database's row locks order concurrent batches.
    """

    def __init__(self, apply: Callable[[list[Any]], list[Any]], *, max_batch: int = 1000,
                 threads: int = 1, name: str = "ledger-committer") -> None:
        self._apply = apply
        self._max_batch = max_batch
        self._name = name
        self._n_threads = threads
        self._queue: list[_Slot] = []
        self._cv = threading.Condition(threading.Lock())
        self._threads: list[threading.Thread] = []
        self._closed = False
        self.batches = 0
        self.operations = 0

    def submit(self, op: Any) -> Any:
        slot = _Slot(op)
        with self._cv:
            if self._closed:
                raise RuntimeError("the quota ledger is closed")
            if not self._threads:  # started lazily: safe to build before a fork
                self._threads = [threading.Thread(target=self._run, name=f"{self._name}-{i}",
                                                  daemon=True) for i in range(self._n_threads)]
                for thread in self._threads:
                    thread.start()
            self._queue.append(slot)
            self._cv.notify()
        slot.done.acquire()
        if slot.error is not None:
            raise slot.error
        return slot.result

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if not self._queue:
                    return
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
            try:
                results = self._apply([slot.op for slot in batch])
                for slot, result in zip(batch, results, strict=True):
                    slot.result = result
            except BaseException as exc:  # handed to every caller of the batch
                for slot in batch:
                    slot.error = exc
            with self._cv:
                self.batches += 1
                self.operations += len(batch)
            for slot in batch:
                slot.done.release()


class BatchingLedger:
    """What every backend shares: validation, the committer, and per-call mode for benchmarks.

    A backend implements ``_apply(ops) -> results`` (one transaction) and may be called directly
    (``group_commit=False``: one transaction per request on the caller's thread).
    """

    def __init__(self, *, group_commit: bool = True, max_batch: int = 1000,
                 committers: int = 1) -> None:
        self.group_commit = group_commit
        self._committer = (GroupCommitter(self._apply, max_batch=max_batch, threads=committers)
                           if group_commit else None)

    def _apply(self, ops: list[Any]) -> list[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _submit(self, op: Any) -> Any:
        if self._committer is not None:
            return self._committer.submit(op)
        return self._apply([op])[0]

    def reserve(self, subject: str, period: str, *, rows_wanted: int, rows_quota: int | None,
                calls_quota: int | None, rate_limit_per_minute: int | None, overage: str = "block",
                now: datetime, asset_id: str | None = None, department_id: str | None = None,
                organisation_id: str | None = None, bytes_estimate: int = 0,
                final: bool = False) -> Grant:
        """Reserve up to ``rows_wanted`` rows and one call for ``subject`` in ``period``.

        Exact across threads and processes; durable (the usage record is committed) when it
        returns. Serve at most ``granted_rows`` rows, and only when ``allowed``.

        :param rows_quota: rows per period (None: unlimited); ``calls_quota`` likewise
        :param rate_limit_per_minute: calls per clock minute (None: unlimited)
        :param overage: ``block`` (refuse and truncate at the quota) or ``bill`` (never refuse
            for the quota; usage beyond it is billed)
        :param now: the request's time (its minute is the rate window)
        :param asset_id: stored on the usage record for reports, with ``department_id`` and
            ``organisation_id``
        :param bytes_estimate: bytes this response will be (kept unless ``settle`` corrects it)
        :param final: the caller will not settle (it already knows the rows it serves): the
            feed may take the record at once instead of after the settle grace
        """
        req = check_reservation(subject, period, rows_wanted=rows_wanted, rows_quota=rows_quota,
                                calls_quota=calls_quota, rate_limit_per_minute=rate_limit_per_minute,
                                overage=overage, now=now, asset_id=asset_id,
                                department_id=department_id, organisation_id=organisation_id,
                                bytes_estimate=bytes_estimate, final=final)
        return self._submit(req)

    def settle(self, grant: Grant, *, rows_served: int, bytes_served: int = 0) -> bool:
        """Give back the rows of ``grant`` not served (and store the bytes served).

        Writes only when fewer rows were served than granted; True when something was given
        back. A record the feed has already taken (after the grace) keeps its reserved rows:
        metered stays ≥ served, and the counters stay equal to the meters.
        """
        op = check_settlement(grant, rows_served, bytes_served)
        if op is None:
            return False
        return bool(self._submit(op))

    def close(self) -> None:
        if self._committer is not None:
            self._committer.close()


def day_text(value: date | str) -> str:
    if isinstance(value, datetime):
        return value.astimezone(CHINA).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(value).isoformat()


# ---- reports (the same SQL on every backend but for the driver's placeholder) ------------

def usage_query(placeholder: str) -> str:
    """The live counters of one (subject, period); parameters (subject, period)."""
    return ("SELECT rows, calls, bytes, rows_quota, calls_quota FROM metering_counters "
            f"WHERE subject = {placeholder} AND period = {placeholder}")


def usage_report(subject: str, period: str, row: Sequence[Any] | None) -> dict[str, Any]:
    """``usage()``'s answer from the row of ``usage_query`` (None: nothing used yet)."""
    rows, calls, bytes_, rows_quota, calls_quota = row or (0, 0, 0, None, None)
    return {"subject": subject, "period": period, "rows": rows, "calls": calls, "bytes": bytes_,
            "rows_quota": rows_quota, "calls_quota": calls_quota}


def daily_usage_query(placeholder: str, *, from_day: date | str, to_day: date | str,
                      subject: str | None, organisation_id: str | None, asset_id: str | None,
                      department_id: str | None) -> tuple[str, list[Any]]:
    """The daily read model's rows from ``from_day`` to ``to_day`` inclusive, filtered by any of
    the keys given: (SQL, parameters)."""
    where, params = [f"day >= {placeholder}", f"day <= {placeholder}"], [day_text(from_day), day_text(to_day)]
    for column, value in (("subject", subject), ("organisation_id", organisation_id),
                          ("asset_id", asset_id), ("department_id", department_id)):
        if value is not None:
            where.append(f"{column} = {placeholder}")
            params.append(value)
    return ("SELECT day, subject, organisation_id, asset_id, department_id, rows, calls, bytes "
            f"FROM metering_daily WHERE {' AND '.join(where)} ORDER BY day, subject, asset_id", params)


def daily_row(row: Sequence[Any]) -> dict[str, Any]:
    """One row of ``daily_usage_query`` as ``daily_usage()`` answers it."""
    day, subject, org, asset, department, rows, calls, bytes_ = row
    return {"day": day, "subject": subject, "organisation_id": org or None, "asset_id": asset or None,
            "department_id": department or None, "rows": rows, "calls": calls, "bytes": bytes_}


def sorted_keys(ops: Sequence[Reservation | Settlement]) -> list[tuple[str, str]]:
    """Counter keys in one order for every transaction (no deadlocks between processes)."""
    return sorted({op.key for op in ops})


def batches_of(rows: Iterator[tuple[Any, ...]]) -> Iterator[FeedBatch]:
    """``(feed_batch, *record columns)`` rows in batch order → one ``FeedBatch`` per batch."""
    number, records = None, []
    for row in rows:
        if row[0] != number and records:
            yield FeedBatch(number, records)  # type: ignore[arg-type]
            records = []
        number = row[0]
        records.append(UsageRecord(*row[1:]))
    if records:
        yield FeedBatch(number, records)  # type: ignore[arg-type]


def group_records(records: Sequence[UsageRecord]) -> Iterator[tuple[tuple[str, str], list[UsageRecord]]]:
    groups: dict[tuple[str, str], list[UsageRecord]] = {}
    for record in records:
        groups.setdefault((record.subject, record.period), []).append(record)
    yield from groups.items()


__all__ = ["BatchingLedger", "CounterState", "FeedBatch", "Grant", "GroupCommitter", "QuotaLedger",
           "Reservation", "Settlement", "UsageRecord", "batches_of", "daily_row", "daily_usage_query",
           "decide", "make_grant", "usage_query", "usage_report"]
