"""One read model's SQLite file: a connection per thread (WAL, so readers never wait for the
writer), one shared connection for ``:memory:``, and write transactions serialised in process."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class SQLiteFile:
    """:param path: the file (its folder is created), or ``:memory:`` for tests."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._memory: sqlite3.Connection | None = None
        self._write_lock = threading.Lock()

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (autocommit; use ``transaction`` to write)."""
        if self.path == ":memory:":
            if self._memory is None:  # one shared connection: each would be a new database
                self._memory = sqlite3.connect(":memory:", check_same_thread=False,
                                               isolation_level=None)
            return self._memory
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def ensure_schema(self, version: int, script: str) -> None:
        """Create the read model's tables. A file built by another schema version is emptied
        first (``PRAGMA user_version`` tells), and its follower then rebuilds it from the log:
        a read model is never migrated, it is replayed."""
        conn = self.connection()
        with self._write_lock:
            if conn.execute("PRAGMA user_version").fetchone()[0] != version:
                for virtual_first in (True, False):  # FTS tables take their shadow tables along
                    for name, sql in conn.execute(
                            "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
                            "AND name NOT LIKE 'sqlite_%'").fetchall():
                        if virtual_first == (sql or "").upper().startswith("CREATE VIRTUAL"):
                            conn.execute(f'DROP TABLE IF EXISTS "{name}"')
            conn.executescript(script)
            conn.execute(f"PRAGMA user_version = {int(version)}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on any exception."""
        with self._write_lock:
            conn = self.connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
