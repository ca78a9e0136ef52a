"""The quota ledger in one SQLite file (the embedded deployment; exact across the processes that
share the file: every batch runs under ``BEGIN IMMEDIATE``)."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

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

# Layout 1 (PRAGMA user_version). What a reservation writes is kept to two b-tree pages — the
# counter row and the record appended at the end of a rowid table — because every page a commit
# touches is one more WAL frame written: a plain rowid (no AUTOINCREMENT, whose sqlite_sequence
# row is one more page; ids are never reused because records are never deleted) and no index on
# the records. The feed finds unclaimed records from a low-water mark kept on its batch rows, and
# a batch's records by their id range.
LAYOUT = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS metering_counters (
    subject TEXT NOT NULL, period TEXT NOT NULL,
    rows INTEGER NOT NULL DEFAULT 0, calls INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0, win_minute INTEGER NOT NULL DEFAULT 0,
    win_calls INTEGER NOT NULL DEFAULT 0, rows_quota INTEGER, calls_quota INTEGER,
    PRIMARY KEY (subject, period)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS metering_records (
    id INTEGER PRIMARY KEY, subject TEXT NOT NULL, period TEXT NOT NULL,
    rows INTEGER NOT NULL, calls INTEGER NOT NULL, bytes INTEGER NOT NULL,
    at TEXT NOT NULL, day TEXT NOT NULL, written REAL NOT NULL,
    asset_id TEXT, department_id TEXT, organisation_id TEXT,
    settled INTEGER NOT NULL DEFAULT 0, feed_batch INTEGER);
CREATE TABLE IF NOT EXISTS metering_feed_batches (
    number INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL,
    first_id INTEGER NOT NULL, last_id INTEGER NOT NULL,
    low INTEGER NOT NULL, fed INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS metering_feed_batches_unfed ON metering_feed_batches (number) WHERE fed = 0;
CREATE TABLE IF NOT EXISTS metering_daily (
    day TEXT NOT NULL, subject TEXT NOT NULL, organisation_id TEXT NOT NULL DEFAULT '',
    asset_id TEXT NOT NULL DEFAULT '', department_id TEXT NOT NULL DEFAULT '',
    rows INTEGER NOT NULL, calls INTEGER NOT NULL, bytes INTEGER NOT NULL,
    PRIMARY KEY (day, subject, asset_id, department_id, organisation_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS metering_daily_org ON metering_daily (organisation_id, day);
CREATE INDEX IF NOT EXISTS metering_daily_asset ON metering_daily (asset_id, day);
CREATE INDEX IF NOT EXISTS metering_daily_department ON metering_daily (department_id, day);
"""
_SCHEMA_STATEMENTS = [statement for statement in SCHEMA.split(";") if statement.strip()]

# Layout 0 (the first release) to layout 1, in the same transaction as the new schema: the
# records and batches are copied over (ids and batch numbers kept), the fed flag moves from each
# record to its batch. ``low`` starts at 0: the first claim scans once from the beginning.
_FROM_LAYOUT_0 = [
    "ALTER TABLE metering_records RENAME TO metering_records_v0",
    "ALTER TABLE metering_feed_batches RENAME TO metering_feed_batches_v0",
    "DROP INDEX IF EXISTS metering_records_unclaimed",
    "DROP INDEX IF EXISTS metering_records_claimed",
    *_SCHEMA_STATEMENTS,
    "INSERT INTO metering_records (id, subject, period, rows, calls, bytes, at, day, written, "
    "asset_id, department_id, organisation_id, settled, feed_batch) SELECT id, subject, period, "
    "rows, calls, bytes, at, day, written, asset_id, department_id, organisation_id, settled, "
    "feed_batch FROM metering_records_v0 ORDER BY id",
    "INSERT INTO metering_feed_batches (number, at, first_id, last_id, low, fed) "
    "SELECT b.number, coalesce(b.at, 0), min(r.id), max(r.id), 0, min(r.fed) "
    "FROM metering_feed_batches_v0 b JOIN metering_records_v0 r ON r.feed_batch = b.number "
    "GROUP BY b.number",
    "DROP TABLE metering_records_v0",
    "DROP TABLE metering_feed_batches_v0",
]

_RECORD_COLUMNS = "id, subject, period, rows, calls, bytes, day, asset_id, department_id, organisation_id"


class SQLiteQuotaLedger(BatchingLedger):
    """``SQLiteQuotaLedger(path)``; ``":memory:"`` for tests of one process.

    :param synchronous: SQLite's ``synchronous`` pragma; FULL (default) survives power loss,
        NORMAL survives a killed process (WAL) and is faster
    """

    def __init__(self, path: str | Path, *, group_commit: bool = True, max_batch: int = 1000,
                 synchronous: str = "FULL", create_tables: bool = True) -> None:
        super().__init__(group_commit=group_commit, max_batch=max_batch)
        self.path = str(path)
        self._memory = self.path == ":memory:"
        if not self._memory:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._synchronous = synchronous
        self._write = self._connect()
        self._write_lock = threading.Lock()
        self._read = self._write if self._memory else self._connect()
        self._read_lock = self._write_lock if self._memory else threading.Lock()
        self._feed_thread_lock = threading.Lock()
        # Counter rows as this connection last wrote them, valid while no other connection
        # (another process) has committed: PRAGMA data_version says when one has.
        self._counters: dict[tuple[str, str], CounterState] = {}
        self._data_version: int | None = None
        if create_tables:
            try:
                self._create_tables()
            except BaseException:
                self.close()
                raise

    def _create_tables(self) -> None:
        with self._transaction() as conn:
            layout = conn.execute("PRAGMA user_version").fetchone()[0]
            if layout > LAYOUT:
                raise RuntimeError(f"{self.path} has ledger layout {layout}; this version knows "
                                   f"up to {LAYOUT}: upgrade the data bank")
            old = layout == 0 and conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'metering_records'").fetchone()
            for statement in _FROM_LAYOUT_0 if old else _SCHEMA_STATEMENTS:
                conn.execute(statement)
            if layout != LAYOUT:
                conn.execute(f"PRAGMA user_version = {LAYOUT}")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        if not self._memory:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        return conn

    def close(self) -> None:
        super().close()
        with self._write_lock:
            self._write.close()
            if self._read is not self._write:
                self._read.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock:
            conn = self._write
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                self._counters = {}  # they may hold decisions that were rolled back
                raise
            try:
                conn.execute("COMMIT")
            except BaseException:
                self._counters = {}
                raise

    # ---- the hot path ----------------------------------------------------------------------

    def _apply(self, ops: list[Any]) -> list[Any]:
        results: list[Any] = []
        written = time.time()
        with self._transaction() as conn:
            states: dict[tuple[str, str], CounterState] = {}
            cached = self._cached_counters(conn)
            new: set[tuple[str, str]] = set()
            for key in sorted_keys(ops):
                state = cached.get(key)
                if state is None:
                    row = conn.execute("SELECT rows, calls, bytes, win_minute, win_calls, rows_quota, "
                                       "calls_quota FROM metering_counters WHERE subject = ? AND period = ?",
                                       key).fetchone()
                    if row is None:
                        state = CounterState()
                        new.add(key)
                    else:
                        state = CounterState(*row)
                states[key] = state
            for op in ops:
                state = states[op.key]
                if isinstance(op, Reservation):
                    granted, refusal = decide(state, op)
                    record_id = None
                    if refusal is None:
                        record_id = conn.execute(
                            "INSERT INTO metering_records (subject, period, rows, calls, bytes, at, day, "
                            "written, asset_id, department_id, organisation_id, settled) "
                            "VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (op.subject, op.period, granted, op.bytes_estimate, op.now.isoformat(),
                             op.day, written, op.asset_id, op.department_id, op.organisation_id,
                             int(op.final))).lastrowid
                    results.append(make_grant(state, op, granted, refusal, record_id))
                else:
                    results.append(self._settle_one(conn, state, op))
            for key, state in states.items():
                if key in new:
                    conn.execute("INSERT INTO metering_counters (subject, period, rows, calls, bytes, "
                                 "win_minute, win_calls, rows_quota, calls_quota) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 (*key, state.rows, state.calls, state.bytes, state.win_minute,
                                  state.win_calls, state.rows_quota, state.calls_quota))
                elif state.changed:
                    conn.execute("UPDATE metering_counters SET rows = ?, calls = ?, bytes = ?, "
                                 "win_minute = ?, win_calls = ?, rows_quota = ?, calls_quota = ? "
                                 "WHERE subject = ? AND period = ?",
                                 (state.rows, state.calls, state.bytes, state.win_minute,
                                  state.win_calls, state.rows_quota, state.calls_quota, *key))
                state.changed = False
            cached.update(states)
        return results

    def _cached_counters(self, conn: sqlite3.Connection) -> dict[tuple[str, str], CounterState]:
        """The counters this connection wrote, unless another connection committed since.

        Saves a read per reservation in the one-process deployment; a commit by any other
        connection (another process, the feed's reader never writes counters) empties it.
        """
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._counters = {}
            self._data_version = version
        return self._counters

    @staticmethod
    def _settle_one(conn: sqlite3.Connection, state: CounterState, op: Settlement) -> bool:
        row = conn.execute("SELECT rows, bytes FROM metering_records WHERE id = ? AND subject = ? "
                           "AND feed_batch IS NULL AND settled = 0", (op.record_id, op.subject)).fetchone()
        if row is None:  # already settled, or already taken by the feed: keep what was reserved
            return False
        settle_state(state, op, row[0], row[1])
        conn.execute("UPDATE metering_records SET rows = ?, bytes = ?, settled = 1 WHERE id = ?",
                     (op.rows_served, op.bytes_served, op.record_id))
        return True

    # ---- reports ---------------------------------------------------------------------------

    def usage(self, subject: str, period: str) -> dict[str, Any]:
        """Live counters of one subject in one period (rows, calls, bytes)."""
        with self._read_lock:
            row = self._read.execute(usage_query("?"), (subject, period)).fetchone()
        return usage_report(subject, period, row)

    def daily_usage(self, *, from_day: date | str, to_day: date | str, subject: str | None = None,
                    organisation_id: str | None = None, asset_id: str | None = None,
                    department_id: str | None = None) -> list[dict[str, Any]]:
        """Fed usage per day, subject and asset, from ``from_day`` to ``to_day`` inclusive,
        filtered by any of the keys given."""
        sql, params = daily_usage_query("?", from_day=from_day, to_day=to_day, subject=subject,
                                        organisation_id=organisation_id, asset_id=asset_id,
                                        department_id=department_id)
        with self._read_lock:
            rows = self._read.execute(sql, params).fetchall()
        return [daily_row(r) for r in rows]

    # ---- the feed's side -------------------------------------------------------------------

    @contextmanager
    def feed_lock(self) -> Iterator[bool]:
        """Exclusive across threads and processes sharing the file; yields False when another
        feeder holds it (do nothing this time)."""
        if not self._feed_thread_lock.acquire(blocking=False):
            yield False
            return
        try:
            if self._memory:
                yield True
                return
            fd = os.open(self.path + ".feed-lock", os.O_CREAT | os.O_RDWR, 0o644)
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    yield False
                    return
                yield True
            finally:
                os.close(fd)  # releases the flock
        finally:
            self._feed_thread_lock.release()

    def pending_feed_batch(self) -> FeedBatch | None:
        with self._transaction() as conn:
            row = conn.execute("SELECT number, first_id, last_id FROM metering_feed_batches "
                               "WHERE fed = 0 ORDER BY number LIMIT 1").fetchone()
            return None if row is None else self._load_batch(conn, *row)

    def claim_feed_batch(self, limit: int, *, grace_seconds: float) -> FeedBatch | None:
        cut = time.time() - grace_seconds
        claimable = "feed_batch IS NULL AND (settled = 1 OR written < ?)"
        with self._transaction() as conn:
            # Every record below the newest batch's low-water mark is claimed already.
            low = conn.execute("SELECT low FROM metering_feed_batches ORDER BY number DESC LIMIT 1"
                               ).fetchone()
            low = low[0] if low else 0
            ids = conn.execute(f"SELECT id FROM metering_records WHERE id >= ? AND {claimable} "
                               "ORDER BY id LIMIT ?", (low, cut, limit)).fetchall()
            if not ids:
                return None
            first, last = ids[0][0], ids[-1][0]
            number = conn.execute("INSERT INTO metering_feed_batches (at, first_id, last_id, low) "
                                  "VALUES (?, ?, ?, ?)", (time.time(), first, last, low)).lastrowid
            if number is None:  # pragma: no cover - an INSERT into a rowid table always sets it
                raise RuntimeError("the feed batch got no number")
            # The same condition over [first, last], under the same write lock: exactly ``ids``.
            conn.execute(f"UPDATE metering_records SET feed_batch = ? WHERE id BETWEEN ? AND ? "
                         f"AND {claimable}", (number, first, last, cut))
            unclaimed = conn.execute("SELECT id FROM metering_records WHERE id >= ? AND "
                                     "feed_batch IS NULL ORDER BY id LIMIT 1", (low,)).fetchone()
            conn.execute("UPDATE metering_feed_batches SET low = ? WHERE number = ?",
                         (unclaimed[0] if unclaimed else last + 1, number))
            return self._load_batch(conn, number, first, last)

    @staticmethod
    def _load_batch(conn: sqlite3.Connection, number: int, first: int, last: int) -> FeedBatch:
        records = [UsageRecord(*r) for r in conn.execute(
            f"SELECT {_RECORD_COLUMNS} FROM metering_records WHERE id BETWEEN ? AND ? "
            "AND feed_batch = ? ORDER BY id", (first, last, number))]
        quotas = {}
        for key in {(r.subject, r.period) for r in records}:
            row = conn.execute("SELECT rows_quota, calls_quota FROM metering_counters WHERE subject = ? "
                               "AND period = ?", key).fetchone()
            quotas[key] = (row[0], row[1]) if row else (None, None)
        return FeedBatch(number, records, quotas)

    def fed_batches(self, *, subjects_not_like: str = "anon:%") -> Iterator[FeedBatch]:
        """Every fed batch (records of subjects not matching the pattern), in batch order: what
        the billing reconciler compares with what the provider acknowledged."""
        with self._transaction() as conn:
            rows = conn.execute(
                f"SELECT r.feed_batch, {', '.join('r.' + c for c in _RECORD_COLUMNS.split(', '))} "
                "FROM metering_feed_batches b JOIN metering_records r ON r.id BETWEEN b.first_id "
                "AND b.last_id AND r.feed_batch = b.number WHERE b.fed = 1 AND r.subject NOT LIKE ? "
                "ORDER BY r.feed_batch, r.id", (subjects_not_like,)).fetchall()
        return batches_of(iter(rows))

    def mark_fed(self, batch_number: int) -> int:
        """Mark a batch fed and add it to the daily read model, exactly once."""
        with self._transaction() as conn:
            batch = conn.execute("SELECT first_id, last_id FROM metering_feed_batches "
                                 "WHERE number = ? AND fed = 0", (batch_number,)).fetchone()
            if batch is None:
                return 0
            rows = conn.execute(
                "SELECT day, subject, coalesce(organisation_id, ''), coalesce(asset_id, ''), "
                "coalesce(department_id, ''), sum(rows), sum(calls), sum(bytes), count(*) "
                "FROM metering_records WHERE id BETWEEN ? AND ? AND feed_batch = ? "
                "GROUP BY 1, 2, 3, 4, 5", (*batch, batch_number)).fetchall()
            conn.executemany(
                "INSERT INTO metering_daily (day, subject, organisation_id, asset_id, department_id, "
                "rows, calls, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                "rows = rows + excluded.rows, calls = calls + excluded.calls, "
                "bytes = bytes + excluded.bytes", [r[:8] for r in rows])
            conn.execute("UPDATE metering_feed_batches SET fed = 1 WHERE number = ?", (batch_number,))
            return sum(r[8] for r in rows)

