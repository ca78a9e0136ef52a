"""What the SQL backends (SQLite, PostgreSQL) share: the report queries — the same SQL on every
backend but for the driver's placeholder — their answers, the row mapping of feed batches and
the lock order of counter keys."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, Sequence

from domain.metering import CHINA
from marketplace.metering.ledger import FeedBatch, Reservation, Settlement, UsageRecord


def day_text(value: date | str) -> str:
    if isinstance(value, datetime):
        return value.astimezone(CHINA).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(value).isoformat()


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
    batch: FeedBatch | None = None
    for row in rows:
        if batch is None or row[0] != batch.number:
            if batch is not None:
                yield batch
            batch = FeedBatch(row[0], [])
        batch.records.append(UsageRecord(*row[1:]))
    if batch is not None:
        yield batch
