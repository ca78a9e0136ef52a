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
