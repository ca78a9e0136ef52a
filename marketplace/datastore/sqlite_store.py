"""The SQLite datastore: every version a table in one database file (WAL, a connection per thread).

Stored as: INTEGER for integers and booleans (1/0), TEXT for strings, ISO dates/datetimes and exact
decimals; decimal comparisons and ordering go through ``CAST(c AS REAL)`` (an expression index on
key columns), so they are numeric while the stored text stays exact.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from marketplace.datastore.errors import QueryRejected, shorten
from marketplace.datastore.importer import ImportPlan, check_table_name, duplicate_message
from marketplace.datastore.limits import ImportLimits
from marketplace.datastore.query import Dialect, physical
from marketplace.datastore.reads import TableReads
from marketplace.datastore.rows import Converter, DriverRow, Row
from marketplace.datastore.schema import Column, ColumnType, ImportResult, ImportSpec

BATCH = 10_000
_SQL_TYPES = {ColumnType.STRING: "TEXT", ColumnType.INTEGER: "INTEGER", ColumnType.DECIMAL: "TEXT",
              ColumnType.DATE: "TEXT", ColumnType.DATETIME: "TEXT", ColumnType.BOOLEAN: "INTEGER"}
_META = "_datastore_columns"


class SQLiteDialect(Dialect):
    placeholder = "?"
    hide_row_order_for_ranges = True

    def expr(self, index: int, column_type: ColumnType) -> str:
        return f"CAST({physical(index)} AS REAL)" if column_type is ColumnType.DECIMAL else physical(index)

    def param(self, column_type: ColumnType, value: Any) -> Any:
        return float(value) if column_type is ColumnType.DECIMAL else value

    def contains(self, expr: str) -> str:
        return f"instr({expr}, ?) > 0"


_OUT: dict[ColumnType, Converter] = {ColumnType.BOOLEAN: bool}


def _ident(table: str) -> str:
    return f'"{check_table_name(table)}"'


class SQLiteDatastore(TableReads):
    """``SQLiteDatastore(path)``; ``":memory:"`` keeps one shared connection (for tests and demos)."""

    _out = _OUT

    def _ident(self, table: str) -> str:
        return _ident(table)

    def __init__(self, path: str | Path, import_limits: ImportLimits | None = None) -> None:
        """:param import_limits: the limits of every upload (``ImportLimits()`` by default)"""
        self._import_limits = import_limits or ImportLimits()
        self._memory = str(path) == ":memory:"
        self._path = str(path)
        if not self._memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._all: list[sqlite3.Connection] = []
        # Connections not in use, most recently returned last. A connection is lent for one
        # ``with`` block, whatever the thread: request threads come and go (the server's pool
        # retires idle workers), and connections tied to threads piled up in ``_all`` for good.
        self._idle: list[sqlite3.Connection] = []
        self._columns: dict[str, tuple[Column, ...]] = {}
        self._dialect = SQLiteDialect()
        with self._connection() as conn:
            if not self._memory:
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f'CREATE TABLE IF NOT EXISTS "{_META}" (tbl TEXT NOT NULL, pos INTEGER NOT NULL, '
                         "name TEXT NOT NULL, type TEXT NOT NULL, semantic TEXT, key INTEGER NOT NULL, "
                         "filterable INTEGER, PRIMARY KEY (tbl, pos))")
            # Files made before filterable columns existed: the column is added, NULL for their
            # tables (Column.from_dict reads NULL as "the keys alone were indexed").
            if "filterable" not in {r[1] for r in conn.execute(f'PRAGMA table_info("{_META}")')}:
                conn.execute(f'ALTER TABLE "{_META}" ADD COLUMN filterable INTEGER')

    # -- connections -------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=120)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA temp_store=MEMORY")
        with self._lock:
            self._all.append(conn)
        return conn

    class _Use:
        """One connection for one ``with`` block: the shared one under the lock (``:memory:``),
        else an idle one (or a new one) returned to the idle list on exit."""

        def __init__(self, store: SQLiteDatastore) -> None:
            self.store = store
            self.conn: sqlite3.Connection | None = None

        def __enter__(self) -> sqlite3.Connection:
            store = self.store
            if store._memory:
                store._lock.acquire()
                self.conn = store._all[0] if store._all else store._connect()
                return self.conn
            with store._lock:
                conn = store._idle.pop() if store._idle else None
            self.conn = conn or store._connect()
            return self.conn

        def __exit__(self, *exc: object) -> None:
            store, conn = self.store, self.conn
            self.conn = None
            if store._memory:
                store._lock.release()
                return
            assert conn is not None
            if conn.in_transaction:  # an error left it mid-transaction: never lend that on
                conn.rollback()
            with store._lock:
                if conn in store._all:  # not closed meanwhile by close()
                    store._idle.append(conn)

    def _connection(self) -> _Use:
        return self._Use(self)

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
            self._idle.clear()

    # -- import ------------------------------------------------------------------------------
    def import_version(self, table: str, source: BinaryIO, spec: ImportSpec) -> ImportResult:
        ident = _ident(table)
        plan = ImportPlan(source, spec, self._import_limits)
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = self._load(conn, table, ident, plan)
                conn.execute("COMMIT")
            except BaseException:
                plan.close()
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        self._columns.pop(table, None)
        return result

    def _load(self, conn: sqlite3.Connection, table: str, ident: str, plan: ImportPlan) -> ImportResult:
        if self._exists(conn, table):
            raise ValueError(f"table {table!r} already exists")
        columns = plan.columns
        defs = ", ".join(f"{physical(i)} {_SQL_TYPES[c.type]}" for i, c in enumerate(columns))
        conn.execute(f'CREATE TABLE {ident} ("_row" INTEGER PRIMARY KEY, {defs})')
        insert = f"INSERT INTO {ident} VALUES ({', '.join(['?'] * (len(columns) + 1))})"
        for batch in plan.batches(BATCH):
            conn.executemany(insert, batch)
        self._index_keys(conn, table, ident, plan)
        self._index_filterable(conn, table, ident, plan)
        counts = ", ".join(f"COUNT({physical(i)})" for i in range(len(columns)))
        total, *filled = conn.execute(f"SELECT COUNT(*), {counts} FROM {ident}").fetchone()
        conn.executemany(f'INSERT INTO "{_META}" (tbl, pos, name, type, semantic, key, filterable) '
                         "VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [(table, i, c.name, c.type.value, c.semantic.value if c.semantic else None, int(c.key),
                           int(c.filterable)) for i, c in enumerate(columns)])
        return plan.result(table, [total - f for f in filled])

    def _index_keys(self, conn: sqlite3.Connection, table: str, ident: str, plan: ImportPlan) -> None:
        keys = [plan.names.index(k) for k in plan.key_columns]
        for i in keys:
            if len(keys) == 1 and plan.columns[i].type is not ColumnType.DECIMAL:
                break  # the unique index below serves the lookups
            expr = self._dialect.expr(i, plan.columns[i].type)
            conn.execute(f'CREATE INDEX "{table}__k{i}" ON {ident} ({expr})')
        if not keys:
            return
        unique = ", ".join(physical(i) for i in keys)
        try:
            conn.execute(f'CREATE UNIQUE INDEX "{table}__key" ON {ident} ({unique})')
        except sqlite3.IntegrityError:
            not_null = " AND ".join(f"{physical(i)} IS NOT NULL" for i in keys)
            found = conn.execute(
                f'SELECT {unique}, "_row" FROM (SELECT {unique}, "_row", ROW_NUMBER() OVER '
                f'(PARTITION BY {unique} ORDER BY "_row") AS n FROM {ident} WHERE {not_null}) '
                f'WHERE n = 2 ORDER BY "_row" LIMIT 1').fetchone()
            raise duplicate_message(plan, found[:-1], found[-1]) from None

    def _index_filterable(self, conn: sqlite3.Connection, table: str, ident: str, plan: ImportPlan) -> None:
        """An index per filterable column that is not a key (keys have theirs), built after the
        rows are in: one sorted build is much faster than keeping the index up while inserting.
        Decimals are indexed on the numeric expression their comparisons use."""
        for i, column in enumerate(plan.columns):
            if column.filterable and not column.key:
                expr = self._dialect.expr(i, column.type)
                conn.execute(f'CREATE INDEX "{table}__f{i}" ON {ident} ({expr})')

    # -- reads -------------------------------------------------------------------------------
    def _exists(self, conn: sqlite3.Connection, table: str) -> bool:
        return conn.execute(f'SELECT 1 FROM "{_META}" WHERE tbl = ? LIMIT 1', (table,)).fetchone() is not None

    def has_table(self, table: str) -> bool:
        try:
            check_table_name(table)
        except ValueError:
            return False
        with self._connection() as conn:
            return self._exists(conn, table)

    def tables(self) -> list[str]:
        with self._connection() as conn:
            return [r[0] for r in conn.execute(f'SELECT DISTINCT tbl FROM "{_META}" ORDER BY tbl')]

    def columns(self, table: str) -> tuple[Column, ...]:
        cached = self._columns.get(table)
        if cached is not None:
            return cached
        try:
            check_table_name(table)
        except ValueError as exc:
            raise QueryRejected(str(exc)) from None
        with self._connection() as conn:
            rows = conn.execute(f'SELECT name, type, semantic, key, filterable FROM "{_META}" WHERE tbl = ? '
                                "ORDER BY pos", (table,)).fetchall()
        if not rows:
            raise QueryRejected(f'no table "{shorten(table)}"')
        columns = tuple(Column.from_dict({"name": n, "type": t, "semantic": s, "key": k, "filterable": f})
                        for n, t, s, k, f in rows)
        self._columns[table] = columns
        return columns

    def _run(self, sql: str, params: Sequence[Any], table: str) -> list[DriverRow]:
        with self._connection() as conn:
            try:
                return conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                if "no such table" in str(exc):
                    self._columns.pop(table, None)
                    raise QueryRejected(f'no table "{shorten(table)}"') from None
                raise

    def iter_rows(self, table: str, batch: int = 5000) -> Iterator[Row]:
        columns = self.columns(table)
        names = [c.name for c in columns]
        bools = [i for i, c in enumerate(columns) if c.type is ColumnType.BOOLEAN]
        fields = ", ".join(physical(i) for i in range(len(columns)))
        sql = f'SELECT "_row", {fields} FROM {_ident(table)} WHERE "_row" > ? ORDER BY "_row" LIMIT {int(batch)}'
        last = 0
        while True:
            rows = self._run(sql, (last,), table)
            for row in rows:
                values = list(row[1:])
                for i in bools:
                    if values[i] is not None:
                        values[i] = bool(values[i])
                yield dict(zip(names, values))
            if len(rows) < batch:
                return
            last = rows[-1][0]

    def drop(self, table: str) -> None:
        ident = _ident(table)
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(f"DROP TABLE IF EXISTS {ident}")
                conn.execute(f'DELETE FROM "{_META}" WHERE tbl = ?', (table,))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        self._columns.pop(table, None)


__all__ = ["SQLiteDatastore"]
