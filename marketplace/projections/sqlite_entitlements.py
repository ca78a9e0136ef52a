"""The entitlements read model in its own SQLite file (``:memory:`` in tests): one document
table for every capability and one tracking position, written in one transaction (why: see
``marketplace.projections.entitlements``)."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path

import orjson

from marketplace.projections.entitlements import EntitlementsView
from marketplace.projections.entitlements_model import MODEL_VERSION, Doc, Row
from marketplace.projections.sqlite_files import SQLiteFile

# The file's PRAGMA user_version: a file of another version is emptied and rebuilt from the log.
# It follows the documents' MODEL_VERSION (bump that when the tables change too); version 2 was
# the last file whose access applications were stored under the kind "application".
SCHEMA_VERSION = MODEL_VERSION
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entitlement_docs (
    kind TEXT NOT NULL, id TEXT NOT NULL, org TEXT, asset TEXT, extra TEXT, doc BLOB NOT NULL,
    PRIMARY KEY (kind, id));
CREATE INDEX IF NOT EXISTS entitlement_org ON entitlement_docs (kind, org, asset);
CREATE INDEX IF NOT EXISTS entitlement_asset ON entitlement_docs (kind, asset);
CREATE INDEX IF NOT EXISTS entitlement_extra ON entitlement_docs (kind, extra);
CREATE TABLE IF NOT EXISTS entitlement_tracking (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
"""


class SQLiteEntitlementsView(EntitlementsView):
    """:param path: the read model's own file (``:memory:`` for tests)."""

    def __init__(self, path: str | Path) -> None:
        self.file = SQLiteFile(path)
        self.path = self.file.path
        self.file.ensure_schema(SCHEMA_VERSION, _SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        return self.file.connection()

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return self.file.transaction()

    def position(self) -> int:
        row = self._conn().execute(
            "SELECT position FROM entitlement_tracking WHERE name = 'entitlements'").fetchone()
        return row[0] if row else 0

    def reset(self) -> None:
        with self._transaction() as tx:
            tx.execute("DELETE FROM entitlement_docs")
            tx.execute("DELETE FROM entitlement_tracking")

    def _get(self, kind: str, key: str) -> Doc | None:
        row = self._conn().execute("SELECT doc FROM entitlement_docs WHERE kind = ? AND id = ?",
                                   (kind, key)).fetchone()
        return orjson.loads(row[0]) if row else None

    def _select(self, kind: str, *, org: str | None = None, asset: str | None = None,
                extra: str | None = None) -> list[Doc]:
        where, params = ["kind = ?"], [kind]
        for column, value in (("org", org), ("asset", asset), ("extra", extra)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        rows = self._conn().execute(
            f"SELECT doc FROM entitlement_docs WHERE {' AND '.join(where)}", params).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    def _locked_position(self, tx: sqlite3.Connection) -> int:
        # BEGIN IMMEDIATE already holds SQLite's write lock.
        row = tx.execute(
            "SELECT position FROM entitlement_tracking WHERE name = 'entitlements'").fetchone()
        return row[0] if row else 0

    def _load(self, tx: sqlite3.Connection, kind: str, key: str) -> Row | None:
        row = tx.execute("SELECT org, asset, extra, doc FROM entitlement_docs "
                         "WHERE kind = ? AND id = ?", (kind, key)).fetchone()
        return Row(row[0], row[1], row[2], orjson.loads(row[3])) if row else None

    def _put(self, tx: sqlite3.Connection, kind: str, key: str, row: Row) -> None:
        tx.execute("INSERT INTO entitlement_docs (kind, id, org, asset, extra, doc) "
                   "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET "
                   "org = excluded.org, asset = excluded.asset, extra = excluded.extra, "
                   "doc = excluded.doc",
                   (kind, key, row.org, row.asset, row.extra, orjson.dumps(row.doc)))

    def _delete(self, tx: sqlite3.Connection, kind: str, key: str) -> None:
        tx.execute("DELETE FROM entitlement_docs WHERE kind = ? AND id = ?", (kind, key))

    def _track(self, tx: sqlite3.Connection, position: int) -> None:
        tx.execute("INSERT INTO entitlement_tracking (name, position) VALUES ('entitlements', ?) "
                   "ON CONFLICT (name) DO UPDATE SET position = excluded.position", (position,))
