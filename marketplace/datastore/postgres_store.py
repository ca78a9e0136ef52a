"""The PostgreSQL datastore: every version a table in one schema, loaded with COPY.

Types: text, bigint, numeric (exact), date, timestamp, boolean. Decimals come back as plain
decimal text (no exponent), dates and datetimes as ISO text, like the SQLite store.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, BinaryIO

import psycopg
from psycopg import sql as _sql
from psycopg_pool import ConnectionPool

from marketplace.datastore.errors import ImportRejected, QueryRejected, shorten
from marketplace.datastore.importer import ImportPlan, check_table_name, duplicate_message
from marketplace.datastore.limits import ImportLimits
from marketplace.datastore.query import Dialect, physical
from marketplace.datastore.reads import TableReads
from marketplace.datastore.rows import Converter, DriverRow, Row
from marketplace.datastore.schema import Column, ColumnType, ImportResult, ImportSpec

BATCH = 10_000
_SQL_TYPES = {ColumnType.STRING: "text", ColumnType.INTEGER: "bigint", ColumnType.DECIMAL: "numeric",
              ColumnType.DATE: "date", ColumnType.DATETIME: "timestamp", ColumnType.BOOLEAN: "boolean"}
_META = "_datastore_columns"
_SCHEMA = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_OUT: dict[ColumnType, Converter] = {ColumnType.DECIMAL: lambda d: format(d, "f"), ColumnType.DATE: _dt.date.isoformat,
        ColumnType.DATETIME: _dt.datetime.isoformat}


def _one_row(cursor: psycopg.Cursor[DriverRow]) -> DriverRow:
    """The row of a statement that always answers one (an aggregate, the duplicate a failed
    unique index proves exists): psycopg types ``fetchone`` as possibly None."""
    row = cursor.fetchone()
    if row is None:  # pragma: no cover - the SQL always answers a row
        raise RuntimeError("the statement answered no row")
    return row


class PostgresDialect(Dialect):
    placeholder = "%s"

    def param(self, column_type: ColumnType, value: Any) -> Any:
        if column_type is ColumnType.DECIMAL:
            return Decimal(value)
        if column_type is ColumnType.DATE:
            return _dt.date.fromisoformat(value)
        if column_type is ColumnType.DATETIME:
            return _dt.datetime.fromisoformat(value)
        if column_type is ColumnType.BOOLEAN:
            return bool(value)
        return value

    def contains(self, expr: str) -> str:
        return f"strpos({expr}, %s) > 0"


class PostgresDatastore(TableReads):
    """``PostgresDatastore(conninfo, schema="datastore", pool_size=4)``; creates the schema if missing."""

    _out = _OUT

    def __init__(self, conninfo: str, schema: str = "datastore", pool_size: int = 4,
                 import_limits: ImportLimits | None = None) -> None:
        """:param import_limits: the limits of every upload (``ImportLimits()`` by default)"""
        self._import_limits = import_limits or ImportLimits()
        if not _SCHEMA.fullmatch(schema):
            raise ValueError(f"schema name {schema!r} must be a plain identifier")
        self._schema = schema
        self._meta = f'"{schema}"."{_META}"'
        self._dialect = PostgresDialect()
        self._columns: dict[str, tuple[Column, ...]] = {}
        # timeout: how long a request waits for a connection; with the database away the pool
        # cannot make one, and the request must fail fast (503, Retry-After), not wait 30 s.
        self._pool = ConnectionPool(conninfo, min_size=1, max_size=pool_size, open=True, timeout=3.0,
                                    kwargs={"autocommit": True}, name=f"datastore-{schema}")
        with self._pool.connection() as conn, conn.transaction():
            # Serialise the DDL of processes starting together (concurrent CREATE ... IF NOT EXISTS races).
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"datastore:{schema}",))
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self._meta} (tbl text NOT NULL, pos integer NOT NULL, "
                         "name text NOT NULL, type text NOT NULL, semantic text, key boolean NOT NULL, "
                         "filterable boolean, PRIMARY KEY (tbl, pos))")
            # Schemas made before filterable columns existed: NULL for their tables
            # (Column.from_dict reads NULL as "the keys alone were indexed").
            if conn.execute("SELECT 1 FROM information_schema.columns WHERE table_schema = %s AND "
                            "table_name = %s AND column_name = 'filterable'", (schema, _META)).fetchone() is None:
                conn.execute(f"ALTER TABLE {self._meta} ADD COLUMN filterable boolean")

    def close(self) -> None:
        self._pool.close()

    def _ident(self, table: str) -> str:
        return f'"{self._schema}"."{check_table_name(table)}"'

    # -- import ------------------------------------------------------------------------------
    def import_version(self, table: str, source: BinaryIO, spec: ImportSpec) -> ImportResult:
        ident = self._ident(table)
        plan = ImportPlan(source, spec, self._import_limits)
        try:
            with self._pool.connection() as conn, conn.transaction():
                result = self._load(conn, table, ident, plan)
        finally:
            plan.close()
        self._columns.pop(table, None)
        return result

    def _load(self, conn: psycopg.Connection, table: str, ident: str, plan: ImportPlan) -> ImportResult:
        if self._exists(conn, table):
            raise ValueError(f"table {table!r} already exists")
        columns = plan.columns
        defs = ", ".join(f"{physical(i)} {_SQL_TYPES[c.type]}" for i, c in enumerate(columns))
        conn.execute(f'CREATE TABLE {ident} ("_row" bigint PRIMARY KEY, {defs})')
        fields = ", ".join(['"_row"'] + [physical(i) for i in range(len(columns))])
        with conn.cursor() as cur, cur.copy(f"COPY {ident} ({fields}) FROM STDIN") as copy:
            write = copy.write_row
            for batch in plan.batches(BATCH):
                for row in batch:
                    write(row)
        self._index_keys(conn, ident, plan)
        self._index_filterable(conn, ident, plan)
        counts = ", ".join(f"COUNT({physical(i)})" for i in range(len(columns)))
        total, *filled = _one_row(conn.execute(f"SELECT COUNT(*), {counts} FROM {ident}"))
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {self._meta} (tbl, pos, name, type, semantic, key, filterable) "
                            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                            [(table, i, c.name, c.type.value, c.semantic.value if c.semantic else None, c.key,
                              c.filterable) for i, c in enumerate(columns)])
        conn.execute(f"ANALYZE {ident}")
        return plan.result(table, [total - f for f in filled])

    def _index_keys(self, conn: psycopg.Connection, ident: str, plan: ImportPlan) -> None:
        keys = [plan.names.index(k) for k in plan.key_columns]
        for i in keys if len(keys) > 1 else ():  # one key column: its unique index serves the lookups
            conn.execute(f"CREATE INDEX ON {ident} ({physical(i)})")
        if not keys:
            return
        unique = ", ".join(physical(i) for i in keys)
        try:
            with conn.transaction():
                conn.execute(f"CREATE UNIQUE INDEX ON {ident} ({unique})")
        except psycopg.errors.UniqueViolation:
            not_null = " AND ".join(f"{physical(i)} IS NOT NULL" for i in keys)
            found = _one_row(conn.execute(
                f'SELECT {unique}, "_row" FROM (SELECT {unique}, "_row", ROW_NUMBER() OVER '
                f'(PARTITION BY {unique} ORDER BY "_row") AS n FROM {ident} WHERE {not_null}) AS d '
                f'WHERE n = 2 ORDER BY "_row" LIMIT 1'))
            out = [_OUT.get(plan.columns[i].type) for i in keys]
            values = [f(v) if f and v is not None else v for f, v in zip(out, found[:-1])]
            raise duplicate_message(plan, values, found[-1]) from None

    def _index_filterable(self, conn: psycopg.Connection, ident: str, plan: ImportPlan) -> None:
        """An index per filterable column that is not a key (keys have theirs), built after the
        COPY: one sorted build is much faster than keeping the index up while loading. The row
        number rides along so that "this value, in row order" (a filter's page) and "by this
        column, then row" (a sort's page) are read straight from the index, unsorted."""
        for i, column in enumerate(plan.columns):
            if column.filterable and not column.key:
                try:
                    with conn.transaction():
                        conn.execute(f'CREATE INDEX ON {ident} ({physical(i)}, "_row")')
                except psycopg.errors.ProgramLimitExceeded:
                    # A B-tree entry holds at most about 2.7 kB: a column of long texts cannot be
                    # indexed, so it cannot be filterable either (the publisher can say otherwise).
                    raise ImportRejected(f'the values of column "{column.name}" are too long to index; '
                                         "declare it not filterable", code="TOO_LARGE") from None

    # -- reads -------------------------------------------------------------------------------
    def _exists(self, conn: psycopg.Connection, table: str) -> bool:
        return conn.execute(f"SELECT 1 FROM {self._meta} WHERE tbl = %s LIMIT 1", (table,)).fetchone() is not None

    def has_table(self, table: str) -> bool:
        try:
            check_table_name(table)
        except ValueError:
            return False
        with self._pool.connection() as conn:
            return self._exists(conn, table)

    def tables(self) -> list[str]:
        with self._pool.connection() as conn:
            return [r[0] for r in conn.execute(f"SELECT DISTINCT tbl FROM {self._meta} ORDER BY tbl")]

    def columns(self, table: str) -> tuple[Column, ...]:
        cached = self._columns.get(table)
        if cached is not None:
            return cached
        try:
            check_table_name(table)
        except ValueError as exc:
            raise QueryRejected(str(exc)) from None
        with self._pool.connection() as conn:
            rows = conn.execute(f"SELECT name, type, semantic, key, filterable FROM {self._meta} WHERE tbl = %s "
                                "ORDER BY pos", (table,)).fetchall()
        if not rows:
            raise QueryRejected(f'no table "{shorten(table)}"')
        columns = tuple(Column.from_dict({"name": n, "type": t, "semantic": s, "key": k, "filterable": f})
                        for n, t, s, k, f in rows)
        self._columns[table] = columns
        return columns

    def _run(self, sql: str, params: Sequence[Any], table: str) -> list[DriverRow]:
        with self._pool.connection() as conn:
            try:
                return conn.execute(_sql.SQL(sql), params).fetchall()
            except psycopg.errors.UndefinedTable:
                self._columns.pop(table, None)
                raise QueryRejected(f'no table "{shorten(table)}"') from None

    def iter_rows(self, table: str, batch: int = 5000) -> Iterator[Row]:
        columns = self.columns(table)
        names = [c.name for c in columns]
        out = [(i, _OUT[c.type]) for i, c in enumerate(columns) if c.type in _OUT]
        fields = ", ".join(physical(i) for i in range(len(columns)))
        sql = f'SELECT "_row", {fields} FROM {self._ident(table)} WHERE "_row" > %s ORDER BY "_row" LIMIT {int(batch)}'
        last = 0
        while True:
            rows = self._run(sql, (last,), table)
            for row in rows:
                values = list(row[1:])
                for i, convert in out:
                    if values[i] is not None:
                        values[i] = convert(values[i])
                yield dict(zip(names, values))
            if len(rows) < batch:
                return
            last = rows[-1][0]

    def drop(self, table: str) -> None:
        ident = self._ident(table)
        with self._pool.connection() as conn, conn.transaction():
            conn.execute(f"DROP TABLE IF EXISTS {ident}")
            conn.execute(f"DELETE FROM {self._meta} WHERE tbl = %s", (table,))
        self._columns.pop(table, None)
