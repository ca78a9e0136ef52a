"""The interface both stores implement."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import BinaryIO, Protocol

from marketplace.datastore.query import Filter, Page
from marketplace.datastore.rows import Row, ScannedRow
from marketplace.datastore.schema import Column, ImportResult, ImportSpec


class Datastore(Protocol):
    """Immutable tables of data-asset version rows: imported once, streamed, then only read."""

    def import_version(self, table: str, source: BinaryIO, spec: ImportSpec) -> ImportResult: ...

    def columns(self, table: str) -> tuple[Column, ...]: ...

    def query(self, table: str, *, filters: Sequence[Filter] = (), order_by: str | None = None,
              descending: bool = False, after: str | None = None, limit: int = 100,
              select: Sequence[str] | None = None) -> Page: ...

    def count(self, table: str, filters: Sequence[Filter] = ()) -> int: ...

    def scan(self, table: str, *, filters: Sequence[Filter] = (), select: Sequence[str] | None = None,
             after_row: int = 0, limit: int = 5000) -> list[ScannedRow]: ...

    def row_after(self, table: str, *, filters: Sequence[Filter] = (), skip: int) -> int | None: ...

    def drop(self, table: str) -> None: ...

    def has_table(self, table: str) -> bool: ...

    def iter_rows(self, table: str, batch: int = 5000) -> Iterator[Row]: ...

    def tables(self) -> list[str]: ...

    def close(self) -> None: ...
