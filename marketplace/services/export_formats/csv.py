"""CSV exports: UTF-8, a header row, booleans as true/false, and text cells a spreadsheet would
run as a formula neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

from marketplace.datastore import ColumnType

MEDIA_TYPE = "text/csv; charset=utf-8"


def encode(columns: tuple[str, ...], types: Mapping[str, ColumnType], masked: Collection[str],
           blocks: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    booleans = [i for i, c in enumerate(columns) if types.get(c) is ColumnType.BOOLEAN]
    # Text cells only: numbers (a negative integer or decimal) stay numbers.
    texts = [i for i, c in enumerate(columns) if types.get(c) is ColumnType.STRING or c in masked]
    for rows in blocks:
        if booleans:
            rows = [_booleans(row, booleans) for row in rows]
        if texts:
            rows = _neutralised(rows, texts)
        writer.writerows(rows)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue().encode("utf-8")  # the header of an empty export


def _booleans(row: Any, booleans: list[int]) -> list[Any]:
    values = list(row)
    for i in booleans:
        if values[i] is not None:
            values[i] = "true" if values[i] else "false"
    return values


# OWASP's CSV injection rule: a spreadsheet runs a cell that starts with one of these as a
# formula (a tab or carriage return can hide one), so such a text cell gets a leading quote.
_FORMULA_STARTS = frozenset(("=", "+", "-", "@", "\t", "\r"))


def _neutralised(rows: Sequence[Any], texts: list[int]) -> list[Any]:
    """The rows with each text cell (at ``texts``) that a spreadsheet would run prefixed with
    ``'``; a row is copied only when one of its cells changes."""
    starts = _FORMULA_STARTS
    result = []
    for row in rows:
        values = None
        for i in texts:
            value = row[i]
            if value.__class__ is str and value[:1] in starts:
                if values is None:
                    values = list(row)
                values[i] = "'" + value
        result.append(row if values is None else values)
    return result
