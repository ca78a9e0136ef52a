"""The backend-independent import pass: source → header checks → inferred columns → row batches.

A backend creates the table from ``plan.columns``, writes every batch of ``plan.batches()`` (tuples
``(_row, value, ...)``) inside one transaction, then asks ``plan.line_of_row`` for the source line
of a duplicate key and ``plan.result`` for the ``ImportResult``.
"""

from __future__ import annotations

import bisect
import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import BinaryIO

from marketplace.datastore import quality
from marketplace.datastore.errors import ImportRejected, shorten
from marketplace.datastore.schema import (
    CONVERTERS, Column, ColumnType, ImportResult, ImportSpec, Semantic, build_row_converter,
    check_header, detect_semantic, infer_type,
)
from marketplace.datastore.indexes import default_filterable
from marketplace.datastore.personal import detect_personal
from marketplace.datastore.limits import ImportLimits
from marketplace.datastore.sources import open_source

SAMPLE_ROWS = 1000
_IDENTIFIER_KINDS = ("id_number", "phone", "bank_card")
_TABLE = re.compile(r"[a-z0-9_]{1,60}")


def check_table_name(table: str) -> str:
    if not isinstance(table, str) or not _TABLE.fullmatch(table):
        raise ValueError(f"table name {table!r} must be 1-60 characters of a-z, 0-9 and _")
    if table.startswith(("_", "sqlite_", "pg_")):
        raise ValueError(f"table name {table!r} uses a prefix reserved by the database")
    return table


class ImportPlan:
    """Reads the header and a sample, settles the columns, then streams converted batches."""

    def __init__(self, source: BinaryIO, spec: ImportSpec, limits: ImportLimits | None = None) -> None:
        """:param limits: the sizes of rows, fields, headers and workbooks (defaults: ``ImportLimits()``)"""
        self.limits = limits or ImportLimits()
        self.raw, self.source = open_source(source, spec.format, spec.max_bytes, self.limits)
        try:
            self._prepare(spec)
        except BaseException:
            self.source.close()
            raise

    def _prepare(self, spec: ImportSpec) -> None:
        src = self.source
        names = check_header(src.header, src.header_line)
        self.names = names
        width = len(names)
        for kind, given in (("type", spec.type_overrides), ("semantic", spec.semantics),
                            ("key", {k: None for k in spec.key_columns}),
                            ("filterable flag", {k: None for k in spec.filterable_columns or ()})):
            for name in given:
                if name not in names:
                    raise ImportRejected(f'the {kind} given for column "{name}" names a column the file '
                                         f"does not have", code="BAD_HEADER", line=src.header_line)
        # The sample: up to SAMPLE_ROWS rows with their lines, ragged rows refused on the way.
        self._sample: list[tuple[list[str], int]] = []
        self._prev_end = src.header_line if spec.format != "jsonl" else src.header_line - 1
        rows = src.rows
        position = src.position
        try:
            for row in rows:
                line = self._prev_end + 1
                self._prev_end = position.line_num
                if len(row) != width:
                    if not row:
                        continue
                    self._ragged(row, line)
                self._sample.append((row, line))
                if len(self._sample) >= SAMPLE_ROWS:
                    break
        except csv.Error as exc:
            raise ImportRejected(f"the CSV cannot be read: {exc}", code="RAGGED_ROW",
                                 line=self._prev_end + 1) from None
        if not self._sample:
            raise ImportRejected("the file has a header but no rows", code="EMPTY")
        columns = []
        self.detected: dict[str, str] = {}
        # Default-deny: columns that look personal, by name or by the sample's content.
        self.personal = detect_personal(names, [r for r, _ in self._sample])
        keys = set(spec.key_columns)
        for i, name in enumerate(names):
            semantic = spec.semantics.get(name)
            if semantic is None and name not in spec.semantics:
                semantic = detect_semantic(name)
                if semantic is not None:
                    self.detected[name] = semantic.value
            semantic = Semantic(semantic) if semantic is not None else None
            if name in spec.type_overrides:
                column_type = ColumnType(spec.type_overrides[name])
            elif semantic is not None or self.personal.get(name) in _IDENTIFIER_KINDS:
                column_type = ColumnType.STRING  # identifiers keep their exact text
            else:
                column_type = infer_type([r[i] for r, _ in self._sample if r[i]])
            columns.append(Column(name, column_type, semantic, name in keys))
        if spec.filterable_columns is None:
            declared = default_filterable(names, [c.type for c in columns], [r for r, _ in self._sample])
        else:
            declared = set(spec.filterable_columns)
        # Keys are indexed anyway (their unique index), so they are always filterable.
        columns = [replace(c, filterable=c.key or c.name in declared) for c in columns]
        self.columns = tuple(columns)
        self.key_columns = tuple(spec.key_columns)
        self._convert = build_row_converter([c.type for c in self.columns])
        self._checks = [(i, *quality.CHECKS[c.semantic]) for i, c in enumerate(self.columns) if c.semantic]
        self.invalid = {i: quality.InvalidCounter() for i, _, _ in self._checks}
        self._line_map: list[tuple[int, int]] = []  # (first _row, line - _row) where the offset changes
        self.row_count = 0

    def _ragged(self, row: list[str], line: int) -> None:
        raise ImportRejected(f"the row has {len(row)} fields but the header has {len(self.names)}",
                             code="RAGGED_ROW", line=line)

    def _bad_value(self, row: list[str], line: int) -> ImportRejected:
        for i, column in enumerate(self.columns):
            converter = CONVERTERS[column.type]
            if converter is not None and row[i]:
                try:
                    converter(row[i])
                except ValueError:
                    return ImportRejected(f'the value "{shorten(row[i])}" in column "{column.name}" is not '
                                          f"{'an' if column.type is ColumnType.INTEGER else 'a'} {column.type.value}",
                                          code="BAD_VALUE", line=line)
        return ImportRejected("a value cannot be stored", code="BAD_VALUE", line=line)  # pragma: no cover

    def batches(self, size: int = 10_000) -> Iterator[list[tuple]]:
        """Converted rows in batches; raises ImportRejected on the first bad row."""
        convert, checks, invalid = self._convert, self._checks, self.invalid
        width = len(self.names)
        line_map = self._line_map
        offset = None
        n = 0
        prev_end = self._prev_end
        batch: list[tuple] = []
        append = batch.append
        max_rows = self.limits.max_rows
        try:
            for row, line in self._sample:  # the same steps as the loop below
                n += 1
                if n > max_rows:
                    raise self._too_many_rows(line)
                if line - n != offset:
                    offset = line - n
                    line_map.append((n, offset))
                try:
                    append(convert(row, n))
                except ValueError:
                    raise self._bad_value(row, line) from None
                for i, valid, problem in checks:
                    value = row[i]
                    if value and not valid(value):
                        invalid[i].add(line, problem(value))
            self._sample = []
            position = self.source.position
            for row in self.source.rows:
                line = prev_end + 1
                prev_end = position.line_num
                if len(row) != width:
                    if not row:
                        continue
                    self._ragged(row, line)
                n += 1
                if n > max_rows:
                    raise self._too_many_rows(line)
                if line - n != offset:
                    offset = line - n
                    line_map.append((n, offset))
                try:
                    append(convert(row, n))
                except ValueError:
                    raise self._bad_value(row, line) from None
                for i, valid, problem in checks:
                    value = row[i]
                    if value and not valid(value):
                        invalid[i].add(line, problem(value))
                if len(batch) >= size:
                    self.row_count = n
                    yield batch
                    batch = []
                    append = batch.append
        except csv.Error as exc:
            raise ImportRejected(f"the CSV cannot be read: {exc}", code="RAGGED_ROW", line=prev_end + 1) from None
        finally:
            self.source.close()
        self.row_count = n
        if batch:
            yield batch

    def _too_many_rows(self, line: int) -> ImportRejected:
        return ImportRejected(f"the upload has more rows than the limit of {self.limits.max_rows:,}",
                              code="TOO_LARGE", line=line)

    def line_of_row(self, row_number: int) -> int:
        """The source line of data row ``row_number`` (the table's ``_row``)."""
        index = bisect.bisect_right(self._line_map, (row_number, float("inf"))) - 1
        return row_number + self._line_map[max(index, 0)][1]

    def result(self, table: str, nulls: Sequence[int]) -> ImportResult:
        report = quality.report(self.columns, self.row_count, nulls, self.invalid, self.detected,
                                self.personal)
        return ImportResult(table=table, columns=self.columns, row_count=self.row_count,
                            content_hash=self.raw.content_hash, encoding=self.source.encoding,
                            bytes_read=self.raw.bytes_read, quality=report)

    def close(self) -> None:
        self.source.close()


def duplicate_message(plan: ImportPlan, values: Sequence[object], row_number: int) -> ImportRejected:
    shown = ", ".join(f'{k} "{shorten(v)}"' for k, v in zip(plan.key_columns, values))
    return ImportRejected(f"the key {shown} appears more than once", code="DUPLICATE_KEY",
                          line=plan.line_of_row(row_number))
