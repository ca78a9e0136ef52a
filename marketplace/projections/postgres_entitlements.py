"""The entitlements read model in PostgreSQL (the scale-out deployment): one document table for
every capability and one tracking position, written in one transaction (why: see
``marketplace.projections.entitlements``)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import orjson
import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from marketplace.projections.entitlements import EntitlementsView
from marketplace.projections.entitlements_model import MODEL_VERSION, Doc, Row


class PostgresEntitlementsView(EntitlementsView):
    """:param conninfo: libpq connection string; :param schema: an existing schema for the tables."""

    def __init__(self, conninfo: str, schema: str = "public", *, create_tables: bool = True) -> None:
        self.schema = schema
        # timeout: how long a request waits for a connection; with the database away the pool
        # cannot make one, and the request must fail fast (503, Retry-After), not wait 30 s.
        # max_size: part of the per-worker connection budget (services/persistence.py,
        # docs/scaling.md); the rows path reads it only on an entitlement-cache miss.
        self.pool = ConnectionPool(conninfo, min_size=1, max_size=2, open=True, timeout=3.0,
                                   kwargs={"options": f"-c search_path={schema}"})
        if create_tables:
            self.create_tables()

    def create_tables(self) -> None:
        """Create the tables; a read model built by another ``MODEL_VERSION`` (or by code from
        before versions were kept) is emptied and its position set to 0, so the followers replay
        the log into the current documents: a read model is never migrated, it is replayed."""
        with self._transaction() as conn:
            # `databank migrate` and single-process servers may start together: one at a time.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                         (f"{self.schema}.entitlement_docs",))
            conn.execute("""
            CREATE TABLE IF NOT EXISTS entitlement_docs (
                kind TEXT NOT NULL, id TEXT NOT NULL, org TEXT, asset TEXT, extra TEXT,
                doc JSONB NOT NULL, PRIMARY KEY (kind, id));
            CREATE INDEX IF NOT EXISTS entitlement_org ON entitlement_docs (kind, org, asset);
            CREATE INDEX IF NOT EXISTS entitlement_asset ON entitlement_docs (kind, asset);
            CREATE INDEX IF NOT EXISTS entitlement_extra ON entitlement_docs (kind, extra);
            CREATE TABLE IF NOT EXISTS entitlement_tracking (
                name TEXT PRIMARY KEY, position BIGINT NOT NULL);
            INSERT INTO entitlement_tracking VALUES ('entitlements', 0) ON CONFLICT DO NOTHING;
            CREATE TABLE IF NOT EXISTS entitlement_model (
                name TEXT PRIMARY KEY, version INTEGER NOT NULL);
            """)
            row = conn.execute(
                "SELECT version FROM entitlement_model WHERE name = 'entitlements'").fetchone()
            if row is None or row[0] != MODEL_VERSION:
                conn.execute("DELETE FROM entitlement_docs")
                conn.execute("UPDATE entitlement_tracking SET position = 0")
                conn.execute("INSERT INTO entitlement_model (name, version) "
                             "VALUES ('entitlements', %s) ON CONFLICT (name) "
                             "DO UPDATE SET version = excluded.version", (MODEL_VERSION,))

    def model_version(self) -> int | None:
        """The ``MODEL_VERSION`` the stored documents were built by (None before any)."""
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT version FROM entitlement_model WHERE name = 'entitlements'").fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.pool.close()

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection]:
        with self.pool.connection() as conn, conn.transaction():
            yield conn

    def position(self) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT position FROM entitlement_tracking WHERE name = 'entitlements'").fetchone()
        return row[0] if row else 0

    def reset(self) -> None:
        with self._transaction() as tx:
            tx.execute("DELETE FROM entitlement_docs")
            tx.execute("UPDATE entitlement_tracking SET position = 0")

    def _get(self, kind: str, key: str) -> Doc | None:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT doc FROM entitlement_docs WHERE kind = %s AND id = %s",
                               (kind, key)).fetchone()
        return row[0] if row else None

    def _select(self, kind: str, *, org: str | None = None, asset: str | None = None,
                extra: str | None = None) -> list[Doc]:
        where, params = ["kind = %s"], [kind]
        for column, value in (("org", org), ("asset", asset), ("extra", extra)):
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        with self.pool.connection() as conn:
            rows = conn.execute(f"SELECT doc FROM entitlement_docs WHERE {' AND '.join(where)}",
                                params).fetchall()
        return [r[0] for r in rows]

    def _locked_position(self, tx: psycopg.Connection) -> int:
        row = tx.execute("SELECT position FROM entitlement_tracking WHERE name = 'entitlements' "
                         "FOR UPDATE").fetchone()
        return row[0] if row else 0

    def _load(self, tx: psycopg.Connection, kind: str, key: str) -> Row | None:
        row = tx.execute("SELECT org, asset, extra, doc FROM entitlement_docs "
                         "WHERE kind = %s AND id = %s", (kind, key)).fetchone()
        return Row(row[0], row[1], row[2], row[3]) if row else None

    def _put(self, tx: psycopg.Connection, kind: str, key: str, row: Row) -> None:
        tx.execute("INSERT INTO entitlement_docs (kind, id, org, asset, extra, doc) "
                   "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (kind, id) DO UPDATE SET "
                   "org = excluded.org, asset = excluded.asset, extra = excluded.extra, "
                   "doc = excluded.doc",
                   (kind, key, row.org, row.asset, row.extra, Jsonb(row.doc, dumps=_dumps)))

    def _delete(self, tx: psycopg.Connection, kind: str, key: str) -> None:
        tx.execute("DELETE FROM entitlement_docs WHERE kind = %s AND id = %s", (kind, key))

    def _track(self, tx: psycopg.Connection, position: int) -> None:
        tx.execute("UPDATE entitlement_tracking SET position = %s WHERE name = 'entitlements'",
                   (position,))


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()
