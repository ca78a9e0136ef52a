"""The catalogue read model in its own SQLite file, searched with FTS5's trigram tokenizer
(which finds Chinese substrings without a word segmenter)."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import orjson

from marketplace.projections.catalogue_model import Entry
from marketplace.projections.catalogue_view import (
    CataloguePage,
    CatalogueQuery,
    CatalogueView,
    decode_cursor,
    like_pattern,
    page_from_rows,
)
from marketplace.projections.sqlite_files import SQLiteFile

# Bump when the tables change: a file of another version is rebuilt from the log.
SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS catalogue_entries (
    id TEXT PRIMARY KEY, resource_code TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    department_id TEXT NOT NULL, category TEXT NOT NULL, class_code TEXT NOT NULL,
    open_type TEXT NOT NULL, status TEXT NOT NULL, row_count INTEGER, updated_at TEXT NOT NULL,
    search_text TEXT NOT NULL, bigrams TEXT NOT NULL);
-- The documents live apart so that filtering scans narrow rows only.
CREATE TABLE IF NOT EXISTS catalogue_docs (id TEXT PRIMARY KEY, doc BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS catalogue_status_code ON catalogue_entries (status, resource_code);
CREATE INDEX IF NOT EXISTS catalogue_category ON catalogue_entries (category, status);
CREATE INDEX IF NOT EXISTS catalogue_department ON catalogue_entries (department_id, status);
CREATE INDEX IF NOT EXISTS catalogue_class ON catalogue_entries (class_code, status);
CREATE VIRTUAL TABLE IF NOT EXISTS catalogue_search USING fts5(
    search_text, content='catalogue_entries', content_rowid='rowid', tokenize='trigram');
-- Two-character words (企业, 公交) are below the trigram tokenizer's reach: a second index
-- holds the text as overlapping character pairs, one token each.
CREATE VIRTUAL TABLE IF NOT EXISTS catalogue_pairs USING fts5(
    bigrams, content='catalogue_entries', content_rowid='rowid', tokenize='unicode61');
CREATE TRIGGER IF NOT EXISTS catalogue_ai AFTER INSERT ON catalogue_entries BEGIN
    INSERT INTO catalogue_search(rowid, search_text) VALUES (new.rowid, new.search_text);
    INSERT INTO catalogue_pairs(rowid, bigrams) VALUES (new.rowid, new.bigrams); END;
CREATE TRIGGER IF NOT EXISTS catalogue_ad AFTER DELETE ON catalogue_entries BEGIN
    INSERT INTO catalogue_search(catalogue_search, rowid, search_text)
    VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO catalogue_pairs(catalogue_pairs, rowid, bigrams) VALUES ('delete', old.rowid, old.bigrams); END;
CREATE TRIGGER IF NOT EXISTS catalogue_au AFTER UPDATE ON catalogue_entries BEGIN
    INSERT INTO catalogue_search(catalogue_search, rowid, search_text)
    VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO catalogue_pairs(catalogue_pairs, rowid, bigrams) VALUES ('delete', old.rowid, old.bigrams);
    INSERT INTO catalogue_search(rowid, search_text) VALUES (new.rowid, new.search_text);
    INSERT INTO catalogue_pairs(rowid, bigrams) VALUES (new.rowid, new.bigrams); END;
CREATE TABLE IF NOT EXISTS catalogue_departments (id TEXT PRIMARY KEY, doc BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS catalogue_tracking (
    name TEXT PRIMARY KEY, position INTEGER NOT NULL);
"""


class SQLiteCatalogueView(CatalogueView):
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
            "SELECT position FROM catalogue_tracking WHERE name = 'catalogue'").fetchone()
        return row[0] if row else 0

    def reset(self) -> None:
        with self._transaction() as tx:
            tx.execute("DELETE FROM catalogue_entries")
            tx.execute("DELETE FROM catalogue_docs")
            tx.execute("DELETE FROM catalogue_departments")
            tx.execute("DELETE FROM catalogue_tracking")

    def get(self, asset_id: str) -> Entry | None:
        row = self._conn().execute("SELECT doc FROM catalogue_docs WHERE id = ?",
                                   (asset_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def departments(self) -> list[Entry]:
        rows = self._conn().execute("SELECT doc FROM catalogue_departments").fetchall()
        return sorted((orjson.loads(r[0]) for r in rows), key=lambda d: d["name"])

    def search(self, query: CatalogueQuery) -> CataloguePage:
        where, params = ["e.status IN (%s)" % ",".join("?" * len(query.statuses))], list(query.statuses)
        for column in ("category", "class_code", "department_id", "open_type"):
            value = getattr(query, column)
            if value:
                where.append(f"e.{column} = ?")
                params.append(value)
        text = query.text.strip()
        if len(text) >= 3:
            # Trigram FTS answers substrings of 3+ characters from the index.
            where.append("e.rowid IN (SELECT rowid FROM catalogue_search WHERE catalogue_search MATCH ?)")
            params.append('"' + text.replace('"', '""') + '"')
        elif len(text) == 2 and text.isalnum():
            where.append("e.rowid IN (SELECT rowid FROM catalogue_pairs WHERE catalogue_pairs MATCH ?)")
            params.append('"' + text + '"')
        elif text:
            where.append("e.search_text LIKE ? ESCAPE '\\'")
            params.append(like_pattern(text))
        conn = self._conn()
        total = conn.execute(f"SELECT count(*) FROM catalogue_entries e WHERE {' AND '.join(where)}",
                             params).fetchone()[0]
        if query.after:
            where.append("e.resource_code > ?")
            params.append(decode_cursor(query.after))
        rows = conn.execute(
            f"SELECT d.doc FROM catalogue_entries e JOIN catalogue_docs d ON d.id = e.id "
            f"WHERE {' AND '.join(where)} ORDER BY e.resource_code LIMIT ?",
            [*params, query.first + 1]).fetchall()
        return page_from_rows((r[0] for r in rows), total, query.first)

    # ---- primitives ----------------------------------------------------------------------

    def _load_entry(self, tx: sqlite3.Connection, asset_id: str) -> Entry | None:
        row = tx.execute("SELECT doc FROM catalogue_docs WHERE id = ?", (asset_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def _load_department(self, tx: sqlite3.Connection, department_id: str) -> Entry | None:
        row = tx.execute("SELECT doc FROM catalogue_departments WHERE id = ?",
                         (department_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def _put_entry(self, tx: sqlite3.Connection, entry: Entry, columns: dict[str, Any]) -> None:
        tx.execute(
            "INSERT INTO catalogue_entries (id, resource_code, name, department_id, category, "
            "class_code, open_type, status, row_count, updated_at, search_text, bigrams) "
            "VALUES (:id, :resource_code, :name, :department_id, :category, :class_code, "
            ":open_type, :status, :row_count, :updated_at, :search_text, :bigrams) "
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, category = excluded.category, "
            "open_type = excluded.open_type, status = excluded.status, "
            "row_count = excluded.row_count, updated_at = excluded.updated_at, "
            "search_text = excluded.search_text, bigrams = excluded.bigrams",
            {**columns, "bigrams": character_pairs(columns["search_text"])})
        tx.execute("INSERT INTO catalogue_docs (id, doc) VALUES (?, ?) "
                   "ON CONFLICT (id) DO UPDATE SET doc = excluded.doc", (entry["id"], orjson.dumps(entry)))

    def _put_department(self, tx: sqlite3.Connection, department: Entry) -> None:
        tx.execute("INSERT OR REPLACE INTO catalogue_departments (id, doc) VALUES (?, ?)",
                   (department["id"], orjson.dumps(department)))

    def _locked_position(self, tx: sqlite3.Connection) -> int:
        # BEGIN IMMEDIATE already holds SQLite's write lock.
        row = tx.execute("SELECT position FROM catalogue_tracking WHERE name = 'catalogue'").fetchone()
        return row[0] if row else 0

    def _track(self, tx: sqlite3.Connection, position: int) -> None:
        tx.execute("INSERT INTO catalogue_tracking (name, position) VALUES ('catalogue', ?) "
                   "ON CONFLICT (name) DO UPDATE SET position = excluded.position", (position,))


def character_pairs(text: str) -> str:
    """Overlapping pairs of word characters, space-separated: 六安市 → "六安 安市"."""
    pairs: list[str] = []
    for word in "".join(c if c.isalnum() else " " for c in text.lower()).split():
        pairs.extend(word[i:i + 2] for i in range(len(word) - 1))
    return " ".join(pairs)
