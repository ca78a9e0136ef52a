"""The data bank on every backend: one behaviour, run on memory, SQLite files and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from marketplace.bootstrap import DataBank, build, build_in_memory
from marketplace.settings import Settings


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bank(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DataBank]:
    """A data bank on each backend in turn (a module may define its own ``bank`` instead)."""
    if request.param == "memory":
        built = build_in_memory()
    elif request.param == "sqlite":
        built = build(Settings(data_dir=tmp_path), fast_hashing=True)
    else:
        url = request.getfixturevalue("postgres_url")
        schema = request.getfixturevalue("postgres_schema")
        built = build(Settings(data_dir=tmp_path, database_url=f"{url}?schema={schema}"), fast_hashing=True)
    try:
        yield built
    finally:
        built.close()
