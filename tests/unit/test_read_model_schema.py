"""A read-model file built by an older schema is emptied and replayed, never half-migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from marketplace.projections.sqlite_catalogue import SCHEMA_VERSION, SQLiteCatalogueView


def test_a_catalogue_file_of_an_older_schema_is_emptied_for_a_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite3"
    old = sqlite3.connect(path)
    old.executescript("CREATE TABLE catalogue_entries (id TEXT PRIMARY KEY, doc BLOB);"
                      "INSERT INTO catalogue_entries VALUES ('a', x'00');"
                      "CREATE TABLE catalogue_tracking (name TEXT PRIMARY KEY, position INTEGER);"
                      "INSERT INTO catalogue_tracking VALUES ('catalogue', 42);")
    old.close()
    view = SQLiteCatalogueView(path)
    assert view.position() == 0  # the follower will replay the whole log
    assert view.get("a") is None
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_current_file_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite3"
    view = SQLiteCatalogueView(path)
    with view._transaction() as tx:
        view._track(tx, 7)
    assert SQLiteCatalogueView(path).position() == 7
