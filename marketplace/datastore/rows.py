"""What a version's rows are once they leave a store: the types every layer above shares.

A store keeps integers, text (strings, exact decimals, ISO dates and datetimes) and booleans;
what it answers is already JSON-able, so the access path, the masker and the export encoders
never convert a value again. These are aliases, not classes: the hot path builds one plain dict
per row and nothing more (a dataclass per row would cost more than the query).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeAlias, TypeGuard

#: One value of a row as the stores answer it: text (also decimals, dates and datetimes as ISO
#: text), a whole number, a boolean, or None for an empty cell.
CellValue: TypeAlias = str | int | bool | None

#: A row of a page: column name → value, in the version's column order.
Row: TypeAlias = dict[str, CellValue]

#: A row of an export block: the selected columns' values, then the row number ``_row``.
ScannedRow: TypeAlias = tuple[*tuple[CellValue, ...], int]

#: A row as the database driver returns it (sqlite3 and psycopg type their rows as Any): only
#: the stores see it, and ``Converter`` makes its values ``CellValue``.
DriverRow: TypeAlias = tuple[Any, ...]

#: How a driver's value of one column type becomes a ``CellValue`` (a Decimal → its plain text).
Converter: TypeAlias = Callable[[Any], CellValue]

#: The operators of a filter: ``where``'s ``{column: {operator: value}}``.
FilterOp: TypeAlias = Literal["eq", "ne", "lt", "lte", "gt", "gte", "in", "contains"]
OPS: tuple[FilterOp, ...] = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "contains")


def is_operator(op: object) -> TypeGuard[FilterOp]:
    """Whether ``op`` (from a client's ``where``) names a filter operator."""
    return op in OPS
