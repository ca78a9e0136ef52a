"""The catalogue read model in PostgreSQL (the scale-out deployment), searched with ILIKE over a
pg_trgm index when the extension is available."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Iterator

import orjson
import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from marketplace.projections.catalogue_model import Entry
from marketplace.projections.catalogue_view import (
    CataloguePage,
    CatalogueQuery,
    CatalogueView,
    decode_cursor,
    like_pattern,
    page_from_rows,
)

log = logging.getLogger(__name__)


class PostgresCatalogueView(CatalogueView):
    """:param conninfo: libpq connection string; :param schema: an existing schema for the tables."""

    def __init__(self, conninfo: str, schema: str = "public", *, create_tables: bool = True) -> None:
        self.schema = schema
        # timeout: how long a request waits for a connection; with the database away the pool
        # cannot make one, and the request must fail fast (503, Retry-After), not wait 30 s.
        # max_size: part of the per-worker connection budget (services/persistence.py,
        # docs/scaling.md); catalogue queries are short reads, two at once keep a worker busy.
        self.pool = ConnectionPool(conninfo, min_size=1, max_size=2, open=True, timeout=3.0,
                                   kwargs={"options": f"-c search_path={schema}"})
        if create_tables:
            self.create_tables()

    def create_tables(self) -> None:
        with self.pool.connection() as conn:
            conn.execute("""
            CREATE TABLE IF NOT EXISTS catalogue_entries (
                id TEXT PRIMARY KEY, resource_code TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
                department_id TEXT NOT NULL, category TEXT NOT NULL, class_code TEXT NOT NULL,
                open_type TEXT NOT NULL, status TEXT NOT NULL, row_count BIGINT,
                updated_at TEXT NOT NULL, search_text TEXT NOT NULL, doc JSONB NOT NULL);
            CREATE INDEX IF NOT EXISTS catalogue_status_code ON catalogue_entries (status, resource_code);
            CREATE INDEX IF NOT EXISTS catalogue_category ON catalogue_entries (category, status);
            CREATE TABLE IF NOT EXISTS catalogue_departments (id TEXT PRIMARY KEY, doc JSONB NOT NULL);
            CREATE TABLE IF NOT EXISTS catalogue_tracking (name TEXT PRIMARY KEY, position BIGINT NOT NULL);
            INSERT INTO catalogue_tracking VALUES ('catalogue', 0) ON CONFLICT DO NOTHING;
            """)
        try:
            with self.pool.connection() as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
                conn.execute("CREATE INDEX IF NOT EXISTS catalogue_trgm ON catalogue_entries "
                             "USING gin (search_text public.gin_trgm_ops)")
        except psycopg.Error as exc:  # without the extension search still works, by scanning
            log.warning("pg_trgm index not created (%s); catalogue search will scan", exc)

    def close(self) -> None:
        self.pool.close()

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection]:
        with self.pool.connection() as conn, conn.transaction():
            yield conn

    def position(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT position FROM catalogue_tracking WHERE name = 'catalogue'").fetchone()
        return row[0] if row else 0

    def reset(self) -> None:
        with self._transaction() as tx:
            tx.execute("DELETE FROM catalogue_entries")
            tx.execute("DELETE FROM catalogue_departments")
            tx.execute("UPDATE catalogue_tracking SET position = 0")

    def get(self, asset_id: str) -> Entry | None:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT doc FROM catalogue_entries WHERE id = %s", (asset_id,)).fetchone()
        return row[0] if row else None

    def departments(self) -> list[Entry]:
        with self.pool.connection() as conn:
            rows = conn.execute("SELECT doc FROM catalogue_departments").fetchall()
        return sorted((r[0] for r in rows), key=lambda d: d["name"])

    def search(self, query: CatalogueQuery) -> CataloguePage:
        where: list[str] = ["status = ANY(%s)"]
        params: list[object] = [list(query.statuses)]
        for column in ("category", "class_code", "department_id", "open_type"):
            value = getattr(query, column)
            if value:
                where.append(f"{column} = %s")
                params.append(value)
        if query.text.strip():
            where.append("search_text ILIKE %s")
            params.append(like_pattern(query.text.strip()))
        with self.pool.connection() as conn:
            counted = conn.execute(f"SELECT count(*) FROM catalogue_entries WHERE {' AND '.join(where)}",
                                   params).fetchone()
            total = counted[0] if counted else 0  # count(*) always answers one row
            if query.after:
                where.append("resource_code > %s")
                params.append(decode_cursor(query.after))
            rows = conn.execute(
                f"SELECT doc::text FROM catalogue_entries WHERE {' AND '.join(where)} "
                "ORDER BY resource_code LIMIT %s", [*params, query.first + 1]).fetchall()
        return page_from_rows((r[0] for r in rows), total, query.first)

    def _locked_position(self, tx: psycopg.Connection) -> int:
        row = tx.execute("SELECT position FROM catalogue_tracking WHERE name = 'catalogue' "
                         "FOR UPDATE").fetchone()
        return row[0] if row else 0

    def _load_entry(self, tx: psycopg.Connection, asset_id: str) -> Entry | None:
        row = tx.execute("SELECT doc FROM catalogue_entries WHERE id = %s", (asset_id,)).fetchone()
        return row[0] if row else None

    def _load_department(self, tx: psycopg.Connection, department_id: str) -> Entry | None:
        row = tx.execute("SELECT doc FROM catalogue_departments WHERE id = %s", (department_id,)).fetchone()
        return row[0] if row else None

    def _put_entry(self, tx: psycopg.Connection, entry: Entry, columns: dict[str, Any]) -> None:
        tx.execute(
            "INSERT INTO catalogue_entries (id, resource_code, name, department_id, category, "
            "class_code, open_type, status, row_count, updated_at, search_text, doc) "
            "VALUES (%(id)s, %(resource_code)s, %(name)s, %(department_id)s, %(category)s, "
            "%(class_code)s, %(open_type)s, %(status)s, %(row_count)s, %(updated_at)s, "
            "%(search_text)s, %(doc)s) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
            "category = excluded.category, open_type = excluded.open_type, status = excluded.status, "
            "row_count = excluded.row_count, updated_at = excluded.updated_at, "
            "search_text = excluded.search_text, doc = excluded.doc",
            {**columns, "doc": Jsonb(entry, dumps=_dumps)})

    def _put_department(self, tx: psycopg.Connection, department: Entry) -> None:
        tx.execute("INSERT INTO catalogue_departments (id, doc) VALUES (%s, %s) "
                   "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
                   (department["id"], Jsonb(department, dumps=_dumps)))

    def _track(self, tx: psycopg.Connection, position: int) -> None:
        tx.execute("UPDATE catalogue_tracking SET position = %s WHERE name = 'catalogue'", (position,))


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()
