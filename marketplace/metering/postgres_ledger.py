"""The quota ledger in PostgreSQL (the scale-out deployment): exact across any number of worker
processes and machines, because each batch locks its (subject, period) counter rows
(``SELECT ... FOR UPDATE``, always in key order, so batches of different processes never
deadlock) and decides on what it locked.

A batch is two network round trips whatever its size, each one message of prepared statements:
lock and read, then write counters, settlements and usage records and commit.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import orjson
import psycopg
from psycopg import ClientCursor
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool

from marketplace.metering.group_commit import BatchingLedger
from marketplace.metering.ledger import (
    CounterState,
    FeedBatch,
    Reservation,
    Settlement,
    UsageRecord,
    decide,
    make_grant,
    settle_state,
)
from marketplace.metering.sql import (
    batches_of,
    daily_row,
    daily_usage_query,
    sorted_keys,
    usage_query,
    usage_report,
)

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS metering_counters (
    subject TEXT NOT NULL, period TEXT NOT NULL,
    rows BIGINT NOT NULL DEFAULT 0, calls BIGINT NOT NULL DEFAULT 0, bytes BIGINT NOT NULL DEFAULT 0,
    win_minute BIGINT NOT NULL DEFAULT 0, win_calls BIGINT NOT NULL DEFAULT 0,
    rows_quota BIGINT, calls_quota BIGINT,
    PRIMARY KEY (subject, period));
CREATE SEQUENCE IF NOT EXISTS metering_record_ids;
CREATE SEQUENCE IF NOT EXISTS metering_feed_batches;
CREATE TABLE IF NOT EXISTS metering_records (
    id BIGINT PRIMARY KEY, subject TEXT NOT NULL, period TEXT NOT NULL,
    rows BIGINT NOT NULL, calls INTEGER NOT NULL, bytes BIGINT NOT NULL,
    at TIMESTAMPTZ NOT NULL, day TEXT NOT NULL, written TIMESTAMPTZ NOT NULL DEFAULT now(),
    asset_id TEXT, department_id TEXT, organisation_id TEXT,
    settled BOOLEAN NOT NULL DEFAULT false, feed_batch BIGINT, fed BOOLEAN NOT NULL DEFAULT false);
CREATE INDEX IF NOT EXISTS metering_records_unclaimed ON metering_records (id) WHERE feed_batch IS NULL;
CREATE INDEX IF NOT EXISTS metering_records_claimed ON metering_records (feed_batch)
    WHERE feed_batch IS NOT NULL AND NOT fed;
CREATE TABLE IF NOT EXISTS metering_daily (
    day TEXT NOT NULL, subject TEXT NOT NULL, organisation_id TEXT NOT NULL DEFAULT '',
    asset_id TEXT NOT NULL DEFAULT '', department_id TEXT NOT NULL DEFAULT '',
    rows BIGINT NOT NULL, calls BIGINT NOT NULL, bytes BIGINT NOT NULL,
    PRIMARY KEY (day, subject, asset_id, department_id, organisation_id));
CREATE INDEX IF NOT EXISTS metering_daily_org ON metering_daily (organisation_id, day);
CREATE INDEX IF NOT EXISTS metering_daily_asset ON metering_daily (asset_id, day);
CREATE INDEX IF NOT EXISTS metering_daily_department ON metering_daily (department_id, day);
"""

_RECORD_COLUMNS = "id, subject, period, rows, calls, bytes, day, asset_id, department_id, organisation_id"
_RETRIES = 5


class PostgresQuotaLedger(BatchingLedger):
    """``PostgresQuotaLedger(conninfo, schema)``: tables in an existing schema.

    :param create_tables: False in API workers (``databank migrate`` creates them once)
    :param committers: committer threads (1 measured best on 2 cores: Python-bound)
    :param pool_size: connections (one per committer, plus reports and the feed;
        ``group_commit=False``: one per concurrent caller). Default 2: the group committer
        batches every request's reservation onto one connection, so more would sit idle while
        counting against the per-worker budget (services/persistence.py). The feed lock holds
        one more session of its own.
    """

    def __init__(self, conninfo: str, schema: str = "public", *, group_commit: bool = True,
                 max_batch: int = 1000, committers: int = 1, pool_size: int = 2,
                 create_tables: bool = True) -> None:
        super().__init__(group_commit=group_commit, max_batch=max_batch, committers=committers)
        pool_size = max(pool_size, committers + 1)
        self.conninfo = conninfo
        self.schema = schema
        # libpq keywords, handed to psycopg's ``**kwargs`` (typed Any there)
        self._options: dict[str, Any] = {"options": f"-c search_path={schema}"}
        # autocommit: a batch says BEGIN itself, in its first message (psycopg would send it
        # alone, one more round trip); the feed's methods open transactions with transaction().
        # timeout: how long a request waits for a connection; with the database away the pool
        # cannot make one, and the request must fail fast (503, Retry-After), not wait 30 s.
        self.pool = ConnectionPool(conninfo, min_size=1, max_size=pool_size, open=True, timeout=3.0,
                                   kwargs={**self._options, "autocommit": True})
        self._known: set[tuple[str, str]] = set()  # counter rows known to exist
        self._prepared: set[int] = set()  # backend pids whose session has _STATEMENTS
        self._feed_thread_lock = threading.Lock()
        self._lock_conn: psycopg.Connection | None = None
        self._lock_key = zlib.crc32(f"metering-feed:{schema}".encode()) & 0x7FFFFFFF
        if create_tables:
            self.create_tables()

    def create_tables(self) -> None:
        with self.pool.connection() as conn:
            conn.execute(SCHEMA)

    def close(self) -> None:
        super().close()
        if self._lock_conn is not None:
            self._lock_conn.close()
        self.pool.close()

    # ---- the hot path ----------------------------------------------------------------------

    def _apply(self, ops: list[Any]) -> list[Any]:
        for attempt in range(_RETRIES):
            try:
                with self.pool.connection() as conn:
                    return self._apply_once(conn, ops)
            except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure):
                if attempt == _RETRIES - 1:
                    raise
                log.warning("metering batch retried after a deadlock (attempt %d)", attempt + 1)
            except pg_errors.InvalidSqlStatementName:  # a new backend that reuses an old pid
                if attempt == _RETRIES - 1:
                    raise
                self._prepared.clear()
        raise AssertionError("unreachable")  # pragma: no cover

    def _apply_once(self, conn: psycopg.Connection, ops: list[Any]) -> list[Any]:
        keys = sorted_keys(ops)
        new_keys = [k for k in keys if k not in self._known]
        settles = [op for op in ops if isinstance(op, Settlement)]
        n_reserves = len(ops) - len(settles)
        # Two messages of prepared statements, the values bound client-side (one JSON text
        # each): lock and read, then write and commit. Every round trip costs more system calls
        # than the statements cost PostgreSQL, and planning them would cost as much again.
        self._prepare(conn)
        read = ["BEGIN"]
        params: list[Any] = []
        if new_keys:
            read.append("EXECUTE metering_new_keys(%s)")
            params.append(_json(new_keys, _KEY_NAMES))
        read.append("EXECUTE metering_lock(%s)")
        params.append(_json(keys, _KEY_NAMES))
        if settles:
            read.append("EXECUTE metering_open_records(%s)")
            params.append(orjson.dumps([op.record_id for op in settles]).decode())
        if n_reserves:
            read.append("EXECUTE metering_ids(%s)")
            params.append(n_reserves)
        cur = ClientCursor(conn)
        try:
            cur.execute("; ".join(read), params)
            cur.nextset()  # BEGIN
            if new_keys:
                cur.nextset()
            states = {(r[0], r[1]): CounterState(*r[2:]) for r in cur.fetchall()}
            recorded: dict[int, tuple[int, int]] = {}
            if settles:
                cur.nextset()
                recorded = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
            ids = []
            if n_reserves:
                cur.nextset()
                ids = [r[0] for r in cur.fetchall()]
            results, inserts, settled = self._decide(ops, states, recorded, ids)
            write, params = [], []
            changed = [(*k, s.rows, s.calls, s.bytes, s.win_minute, s.win_calls, s.rows_quota,
                        s.calls_quota) for k, s in states.items() if s.changed]
            for statement, rows, names in (("metering_counters", changed, _COUNTER_NAMES),
                                           ("metering_settled", settled, _SETTLED_NAMES),
                                           ("metering_records", inserts, _RECORD_NAMES)):
                if rows:
                    write.append(f"EXECUTE {statement}(%s)")
                    params.append(_json(rows, names))
            write.append("COMMIT")
            cur.execute("; ".join(write), params)
        except BaseException:
            if not conn.broken:
                conn.execute("ROLLBACK")
            raise
        finally:
            cur.close()
        self._known.update(keys)
        if len(self._known) > 100_000:
            self._known.clear()
        return results

    def _prepare(self, conn: psycopg.Connection) -> None:
        pid = conn.info.backend_pid
        if pid not in self._prepared:
            with ClientCursor(conn) as cur:  # several statements: the simple query protocol
                cur.execute("; ".join(f"PREPARE {name} {text}" for name, text in _STATEMENTS.items()))
            self._prepared.add(pid)

    @staticmethod
    def _decide(ops: list[Any], states: dict[tuple[str, str], CounterState],
                recorded: dict[int, tuple[int, int]], ids: list[int]) -> tuple[list, list, list]:
        results: list[Any] = []
        inserts: list[tuple] = []
        settled: list[tuple] = []
        fresh = iter(ids)
        for op in ops:
            state = states[op.key]
            if isinstance(op, Reservation):
                granted, refusal = decide(state, op)
                record_id = None
                if refusal is None:
                    record_id = next(fresh)
                    inserts.append((record_id, op.subject, op.period, granted, 1, op.bytes_estimate,
                                    op.now, op.day, op.asset_id, op.department_id,
                                    op.organisation_id, op.final))
                results.append(make_grant(state, op, granted, refusal, record_id))
            elif op.record_id in recorded:
                rows, bytes_ = recorded.pop(op.record_id)
                settle_state(state, op, rows, bytes_)
                settled.append((op.record_id, op.rows_served, op.bytes_served))
                results.append(True)
            else:  # already settled, or taken by the feed: keep what was reserved
                results.append(False)
        return results, inserts, settled

    # ---- reports ---------------------------------------------------------------------------

    def usage(self, subject: str, period: str) -> dict[str, Any]:
        """Live counters of one subject in one period (rows, calls, bytes)."""
        with self.pool.connection() as conn:
            row = conn.execute(usage_query("%s"), (subject, period)).fetchone()
        return usage_report(subject, period, row)

    def daily_usage(self, *, from_day: date | str, to_day: date | str, subject: str | None = None,
                    organisation_id: str | None = None, asset_id: str | None = None,
                    department_id: str | None = None) -> list[dict[str, Any]]:
        """Fed usage per day, subject and asset, from ``from_day`` to ``to_day`` inclusive,
        filtered by any of the keys given."""
        sql, params = daily_usage_query("%s", from_day=from_day, to_day=to_day, subject=subject,
                                        organisation_id=organisation_id, asset_id=asset_id,
                                        department_id=department_id)
        with self.pool.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [daily_row(r) for r in rows]

    # ---- the feed's side -------------------------------------------------------------------

    @contextmanager
    def feed_lock(self) -> Iterator[bool]:
        """A session advisory lock: one feeder across all processes and machines; released
        when the holder's connection ends (a killed feeder frees it)."""
        if not self._feed_thread_lock.acquire(blocking=False):
            yield False
            return
        try:
            if self._lock_conn is None or self._lock_conn.closed or self._lock_conn.broken:
                self._lock_conn = psycopg.connect(self.conninfo, autocommit=True, **self._options)
            conn = self._lock_conn
            held = _value(conn.execute("SELECT pg_try_advisory_lock(%s)", (self._lock_key,)))
            try:
                yield bool(held)
            finally:
                if held and not conn.broken:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (self._lock_key,))
        finally:
            self._feed_thread_lock.release()

    def pending_feed_batch(self) -> FeedBatch | None:
        with self.pool.connection() as conn:
            number = _value(conn.execute("SELECT min(feed_batch) FROM metering_records "
                                         "WHERE feed_batch IS NOT NULL AND NOT fed"))
            return None if number is None else self._load_batch(conn, number)

    def claim_feed_batch(self, limit: int, *, grace_seconds: float) -> FeedBatch | None:
        with self.pool.connection() as conn, conn.transaction():
            number = _value(conn.execute("SELECT nextval('metering_feed_batches')"))
            claimed = conn.execute(
                "UPDATE metering_records r SET feed_batch = %s FROM (SELECT id FROM metering_records "
                "WHERE feed_batch IS NULL AND (settled OR written < now() - make_interval(secs => %s)) "
                "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) p WHERE r.id = p.id",
                (number, float(grace_seconds), limit)).rowcount
            if not claimed:
                return None
            return self._load_batch(conn, number)

    @staticmethod
    def _load_batch(conn: psycopg.Connection, number: int) -> FeedBatch:
        records = [UsageRecord(*r) for r in conn.execute(
            f"SELECT {_RECORD_COLUMNS} FROM metering_records WHERE feed_batch = %s ORDER BY id",
            (number,))]
        keys = sorted({(r.subject, r.period) for r in records})
        quotas = {(r[0], r[1]): (r[2], r[3]) for r in conn.execute(
            "SELECT subject, period, rows_quota, calls_quota FROM metering_counters WHERE "
            "(subject, period) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
            ([k[0] for k in keys], [k[1] for k in keys]))}
        return FeedBatch(number, records, quotas)

    def fed_batches(self, *, subjects_not_like: str = "anon:%") -> Iterator[FeedBatch]:
        """Every fed batch (records of subjects not matching the pattern), in batch order: what
        the billing reconciler compares with what the provider acknowledged."""
        with self.pool.connection() as conn:
            rows = conn.execute(f"SELECT feed_batch, {_RECORD_COLUMNS} FROM metering_records "
                                "WHERE fed AND subject NOT LIKE %s ORDER BY feed_batch, id",
                                (subjects_not_like,)).fetchall()
        return batches_of(iter(rows))

    def mark_fed(self, batch_number: int) -> int:
        """Mark a batch fed and add it to the daily read model, exactly once."""
        with self.pool.connection() as conn, conn.transaction():
            row = conn.execute(
                "WITH done AS (UPDATE metering_records SET fed = true WHERE feed_batch = %s AND NOT fed "
                "RETURNING day, subject, coalesce(organisation_id, '') AS o, coalesce(asset_id, '') AS a, "
                "coalesce(department_id, '') AS d, rows, calls, bytes), "
                "sums AS (SELECT day, subject, o, a, d, sum(rows) AS r, sum(calls) AS c, "
                "sum(bytes) AS b, count(*) AS n FROM done GROUP BY 1, 2, 3, 4, 5), "
                "up AS (INSERT INTO metering_daily (day, subject, organisation_id, asset_id, "
                "department_id, rows, calls, bytes) SELECT day, subject, o, a, d, r, c, b FROM sums "
                "ON CONFLICT (day, subject, asset_id, department_id, organisation_id) DO UPDATE SET "
                "rows = metering_daily.rows + excluded.rows, calls = metering_daily.calls + "
                "excluded.calls, bytes = metering_daily.bytes + excluded.bytes) "
                "SELECT coalesce(sum(n), 0) FROM sums", (batch_number,))
            return int(_value(row))


# A batch travels as one JSON text per statement, unpacked by json_to_recordset: psycopg adapts a
# Python list element by element in Python (~200 µs for the 12 columns of 8 records), orjson
# writes the whole batch in ~10 µs.
def _value(cursor: psycopg.Cursor[tuple[Any, ...]]) -> Any:
    """The one value of a statement that always answers one row (an aggregate, a function
    call): psycopg types ``fetchone`` as possibly None."""
    row = cursor.fetchone()
    if row is None:  # pragma: no cover - the SQL always answers a row
        raise RuntimeError("the statement answered no row")
    return row[0]


_KEY_NAMES = ("subject", "period")
_COUNTER_NAMES = ("subject", "period", "rows", "calls", "bytes", "win_minute", "win_calls",
                  "rows_quota", "calls_quota")
_SETTLED_NAMES = ("id", "rows", "bytes")
_RECORD_NAMES = ("id", "subject", "period", "rows", "calls", "bytes", "at", "day", "asset_id",
                 "department_id", "organisation_id", "settled")
_KEYS = "json_to_recordset($1) AS k(subject text, period text)"
# Prepared once per connection (planning the lock alone costs ~0.15 ms).
_STATEMENTS = {
    "metering_new_keys": "(json) AS INSERT INTO metering_counters (subject, period) "
                         f"SELECT subject, period FROM {_KEYS} ORDER BY subject, period "
                         "ON CONFLICT DO NOTHING",
    "metering_lock": "(json) AS SELECT subject, period, rows, calls, bytes, win_minute, win_calls, "
                     "rows_quota, calls_quota FROM metering_counters WHERE (subject, period) IN "
                     f"(SELECT subject, period FROM {_KEYS}) ORDER BY subject, period FOR UPDATE",
    "metering_open_records": "(json) AS SELECT id, rows, bytes FROM metering_records WHERE id IN "
                             "(SELECT value::bigint FROM json_array_elements_text($1)) "
                             "AND feed_batch IS NULL AND NOT settled FOR UPDATE",
    "metering_ids": "(int) AS SELECT nextval('metering_record_ids') FROM generate_series(1, $1)",
    "metering_counters": "(json) AS UPDATE metering_counters c SET rows = v.rows, calls = v.calls, "
                         "bytes = v.bytes, win_minute = v.win_minute, win_calls = v.win_calls, "
                         "rows_quota = v.rows_quota, calls_quota = v.calls_quota FROM "
                         "json_to_recordset($1) AS v(subject text, period text, rows bigint, "
                         "calls bigint, bytes bigint, win_minute bigint, win_calls bigint, "
                         "rows_quota bigint, calls_quota bigint) "
                         "WHERE c.subject = v.subject AND c.period = v.period",
    "metering_settled": "(json) AS UPDATE metering_records r SET rows = v.rows, bytes = v.bytes, "
                        "settled = true FROM json_to_recordset($1) AS v(id bigint, rows bigint, "
                        "bytes bigint) WHERE r.id = v.id",
    "metering_records": f"(json) AS INSERT INTO metering_records ({', '.join(_RECORD_NAMES)}) "
                        "SELECT * FROM json_to_recordset($1) AS v(id bigint, subject text, "
                        "period text, rows bigint, calls int, bytes bigint, at timestamptz, "
                        "day text, asset_id text, department_id text, organisation_id text, "
                        "settled bool)",
}


def _json(rows: list[tuple], names: tuple[str, ...]) -> str:
    """Row tuples as the JSON array of objects ``json_to_recordset`` takes."""
    return orjson.dumps([dict(zip(names, row)) for row in rows]).decode()
