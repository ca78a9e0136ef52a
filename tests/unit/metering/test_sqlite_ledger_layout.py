"""The SQLite ledger's file layout: a file of the first release (layout 0) is brought to the
current layout when opened, keeping every record, batch and counter; a newer file is refused."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from domain.metering import CHINA
from marketplace.metering import SQLiteQuotaLedger
from marketplace.metering.sqlite_ledger import LAYOUT

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=CHINA)

# The first release's tables, as they were created in existing data directories.
LAYOUT_0 = """
CREATE TABLE metering_counters (
    subject TEXT NOT NULL, period TEXT NOT NULL,
    rows INTEGER NOT NULL DEFAULT 0, calls INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0, win_minute INTEGER NOT NULL DEFAULT 0,
    win_calls INTEGER NOT NULL DEFAULT 0, rows_quota INTEGER, calls_quota INTEGER,
    PRIMARY KEY (subject, period)) WITHOUT ROWID;
CREATE TABLE metering_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL, period TEXT NOT NULL,
    rows INTEGER NOT NULL, calls INTEGER NOT NULL, bytes INTEGER NOT NULL,
    at TEXT NOT NULL, day TEXT NOT NULL, written REAL NOT NULL,
    asset_id TEXT, department_id TEXT, organisation_id TEXT,
    settled INTEGER NOT NULL DEFAULT 0, feed_batch INTEGER, fed INTEGER NOT NULL DEFAULT 0);
CREATE INDEX metering_records_unclaimed ON metering_records (id) WHERE feed_batch IS NULL;
CREATE INDEX metering_records_claimed ON metering_records (feed_batch)
    WHERE feed_batch IS NOT NULL AND fed = 0;
CREATE TABLE metering_feed_batches (number INTEGER PRIMARY KEY AUTOINCREMENT, at REAL);
CREATE TABLE metering_daily (
    day TEXT NOT NULL, subject TEXT NOT NULL, organisation_id TEXT NOT NULL DEFAULT '',
    asset_id TEXT NOT NULL DEFAULT '', department_id TEXT NOT NULL DEFAULT '',
    rows INTEGER NOT NULL, calls INTEGER NOT NULL, bytes INTEGER NOT NULL,
    PRIMARY KEY (day, subject, asset_id, department_id, organisation_id)) WITHOUT ROWID;
"""


def first_release_file(path: Path) -> None:
    """sub-a: records 1-2 fed in batch 1, record 3 claimed in batch 2 but not fed (a feeder
    stopped there), record 4 unclaimed; counters say 4 calls, 40 rows."""
    db = sqlite3.connect(path)
    db.executescript(LAYOUT_0)
    db.execute("INSERT INTO metering_counters (subject, period, rows, calls, rows_quota) "
               "VALUES ('sub-a', '2026-11', 40, 4, 1000)")
    db.executemany(
        "INSERT INTO metering_records (subject, period, rows, calls, bytes, at, day, written, "
        "settled, feed_batch, fed) VALUES ('sub-a', '2026-11', 10, 1, 0, ?, '2026-11-20', 0, 1, ?, ?)",
        [(NOW.isoformat(), 1, 1), (NOW.isoformat(), 1, 1), (NOW.isoformat(), 2, 0),
         (NOW.isoformat(), None, 0)])
    db.executemany("INSERT INTO metering_feed_batches (at) VALUES (?)", [(1.0,), (2.0,)])
    db.execute("INSERT INTO metering_daily VALUES ('2026-11-20', 'sub-a', '', '', '', 20, 2, 0)")
    db.commit()
    db.close()


def test_a_first_release_ledger_is_brought_to_the_current_layout_with_nothing_lost(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    first_release_file(path)
    ledger = SQLiteQuotaLedger(path)
    try:
        assert ledger.usage("sub-a", "2026-11")["rows"] == 40
        assert [b.number for b in ledger.fed_batches()] == [1]
        pending = ledger.pending_feed_batch()
        assert pending is not None and (pending.number, [r.id for r in pending.records]) == (2, [3])
        assert ledger.mark_fed(2) == 1
        grant = ledger.reserve("sub-a", "2026-11", rows_wanted=10, rows_quota=1000, calls_quota=None,
                               rate_limit_per_minute=None, now=NOW, final=True)
        assert int(grant.record_id) == 5 and grant.rows_used == 50  # ids go on; counters kept
        batch = ledger.claim_feed_batch(100, grace_seconds=0)
        assert batch.number == 3 and [r.id for r in batch.records] == [4, 5]
        assert ledger.mark_fed(3) == 2
        days = ledger.daily_usage(from_day="2026-11-01", to_day="2026-11-30")
        assert [(d["rows"], d["calls"]) for d in days] == [(50, 5)]
    finally:
        ledger.close()
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == LAYOUT
        assert "AUTOINCREMENT" not in db.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'metering_records'").fetchone()[0]
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        assert not names & {"metering_records_v0", "metering_feed_batches_v0",
                            "metering_records_unclaimed", "metering_records_claimed"}
    finally:
        db.close()


def test_opening_a_current_ledger_again_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    ledger = SQLiteQuotaLedger(path)
    ledger.reserve("sub-a", "2026-11", rows_wanted=3, rows_quota=None, calls_quota=None,
                   rate_limit_per_minute=None, now=NOW, final=True)
    ledger.close()
    again = SQLiteQuotaLedger(path)
    try:
        assert again.usage("sub-a", "2026-11")["rows"] == 3
        assert [r.rows for r in again.claim_feed_batch(10, grace_seconds=0).records] == [3]
    finally:
        again.close()


def test_a_ledger_of_a_newer_release_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {LAYOUT + 1}")
    db.close()
    with pytest.raises(RuntimeError, match=f"ledger layout {LAYOUT + 1}"):
        SQLiteQuotaLedger(path)
    db = sqlite3.connect(path)
    try:
        assert db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    finally:
        db.close()
