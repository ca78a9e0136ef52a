"""Filters, keyset cursors and the SQL of a page, shared by both backends.

Column names never reach the SQL: a table's columns are stored as ``c0, c1, ...`` with the real
names in the metadata, so a filter names a column by checking it against that list. Every value is
a bound parameter, coerced to the column type first.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from marketplace.datastore.errors import QueryRejected, shorten
from marketplace.datastore.indexes import index_use
from marketplace.datastore.rows import OPS, CellValue, Converter, DriverRow, FilterOp, Row, ScannedRow
from marketplace.datastore.schema import Column, ColumnType, to_boolean, to_date, to_datetime, to_decimal, to_integer

MAX_LIMIT = 1000
MAX_IN_VALUES = 1000
_INT64_MAX = 2**63 - 1
_SQL_OPS = {"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


@dataclass(frozen=True)
class Filter:
    """One condition of a query: ``column`` ``op`` ``value`` (``value`` as the client sent it,
    coerced to the column's type when the SQL is built; a list for ``in``)."""

    column: str
    op: FilterOp
    value: object


@dataclass(frozen=True)
class Page:
    """A page of rows and the store's (plain, unsealed) cursor after its last row."""

    rows: list[Row]
    next_cursor: str | None


def physical(index: int) -> str:
    return f'"c{index}"'


class Dialect:
    """What differs between SQLite and PostgreSQL in a page query."""

    placeholder = "?"
    #: the planner walks the row numbers rather than an index range unless told (SQLite: no
    #: value statistics); see ``indexes`` on a usable index
    hide_row_order_for_ranges = False

    def expr(self, index: int, column_type: ColumnType) -> str:
        return physical(index)

    def param(self, column_type: ColumnType, value: Any) -> Any:
        return value

    def contains(self, expr: str) -> str:
        raise NotImplementedError


def _article(column_type: ColumnType) -> str:
    return "an" if column_type is ColumnType.INTEGER else "a"


def coerce(column: Column, value: Any) -> Any:
    """A filter value in the form the store keeps (int, canonical decimal text, ISO text, 1/0)."""
    t = column.type
    try:
        if isinstance(value, bool):
            if t is ColumnType.BOOLEAN:
                return int(value)
            raise ValueError
        if t is ColumnType.STRING:
            if isinstance(value, (str, int)):
                return str(value)
            raise ValueError
        if t is ColumnType.INTEGER:
            if isinstance(value, int):
                return to_integer(str(value))
            if isinstance(value, float) and value.is_integer():
                return int(value)
            return to_integer(value.strip())
        if t is ColumnType.DECIMAL:
            if isinstance(value, (int, Decimal)):
                return to_decimal(format(Decimal(value), "f"))
            if isinstance(value, float):
                return to_decimal(repr(value)) if "e" not in repr(value) else to_decimal(format(Decimal(value), "f"))
            return to_decimal(value.strip())
        if t is ColumnType.DATE:
            if isinstance(value, _dt.datetime):
                raise ValueError
            if isinstance(value, _dt.date):
                return value.isoformat()
            return to_date(value.strip())
        if t is ColumnType.DATETIME:
            if isinstance(value, _dt.datetime):
                return to_datetime(value.isoformat())
            return to_datetime(value)
        return to_boolean(value)
    except (ValueError, AttributeError, TypeError):
        raise QueryRejected(f'value "{shorten(value)}" is not {_article(t)} {t.value} for column '
                            f'"{column.name}"') from None


def encode_cursor(order_by: str | None, descending: bool, sort_value: CellValue, row: int) -> str:
    data = orjson.dumps([order_by, descending, sort_value, row])
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode_cursor(cursor: str, order_by: str | None, descending: bool) -> tuple[str | int | None, int]:
    try:
        data = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_by, desc, value, row = orjson.loads(data)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise QueryRejected("the cursor is not valid") from None
    if sort_by != order_by or desc is not descending or not isinstance(row, int) or isinstance(row, bool):
        raise QueryRejected("the cursor belongs to a query with another order")
    # Row numbers and integer sort values are 64-bit signed in both stores: anything else would
    # only overflow the driver (a server error), never name a row.
    if not 0 <= row <= _INT64_MAX:
        raise QueryRejected("the cursor is not valid")
    if value is not None and (not isinstance(value, (str, int)) or isinstance(value, bool)
                              or (isinstance(value, int) and not -_INT64_MAX - 1 <= value <= _INT64_MAX)):
        raise QueryRejected("the cursor is not valid")
    return value, row


class PageQuery:
    """Checks the arguments of ``query``/``count`` against the columns and builds the SQL."""

    def __init__(self, columns: Sequence[Column], dialect: Dialect) -> None:
        self.columns = columns
        self.index = {c.name: i for i, c in enumerate(columns)}
        self.indexed = frozenset(c.name for c in columns if c.filterable)
        self.dialect = dialect

    def position(self, name: Any) -> int:
        if not isinstance(name, str) or name not in self.index:
            raise QueryRejected(f'unknown column "{shorten(name)}"')
        return self.index[name]

    def where(self, filters: Sequence[Filter]) -> tuple[list[str], list[Any]]:
        d, ph = self.dialect, self.dialect.placeholder
        clauses: list[str] = []
        params: list[Any] = []
        for f in filters:
            if not isinstance(f, Filter):
                raise QueryRejected("a filter must name a column, an operator and a value")
            i = self.position(f.column)
            column = self.columns[i]
            expr = d.expr(i, column.type)
            if f.op not in OPS:
                raise QueryRejected(f'unknown filter operator "{shorten(f.op)}" (use one of {", ".join(OPS)})')
            if f.op == "contains":
                if column.type is not ColumnType.STRING:
                    raise QueryRejected(f'"contains" needs a text column; "{column.name}" is a {column.type.value} column')
                if not isinstance(f.value, str):
                    raise QueryRejected(f'"contains" needs a text value for column "{column.name}"')
                clauses.append(d.contains(physical(i)))
                params.append(f.value)
            elif f.op == "in":
                if not isinstance(f.value, (list, tuple)):
                    raise QueryRejected(f'"in" needs a list of values for column "{column.name}"')
                if len(f.value) > MAX_IN_VALUES:
                    raise QueryRejected(f'"in" takes at most {MAX_IN_VALUES} values, not {len(f.value)}')
                values = [d.param(column.type, coerce(column, v)) for v in f.value if v is not None]
                alternatives = []
                if values:
                    alternatives.append(f"{expr} IN ({', '.join([ph] * len(values))})")
                if any(v is None for v in f.value):
                    alternatives.append(f"{physical(i)} IS NULL")
                clauses.append("(" + " OR ".join(alternatives) + ")" if alternatives else "1 = 0")
                params.extend(values)
            elif f.value is None:
                if f.op not in ("eq", "ne"):
                    raise QueryRejected(f'"{f.op}" needs a value for column "{column.name}"')
                clauses.append(f"{physical(i)} IS {'NOT ' if f.op == 'ne' else ''}NULL")
            else:
                clauses.append(f"{expr} {_SQL_OPS[f.op]} {ph}")
                params.append(d.param(column.type, coerce(column, f.value)))
        return clauses, params

    def page_sql(self, table_ident: str, *, filters: Sequence[Filter], order_by: str | None,
                 descending: bool, after: str | None, limit: int,
                 select: Sequence[str] | None) -> tuple[str, list[Any], list[int], int | None]:
        """SQL selecting ``select`` columns, then the sort value (when sorted), then ``_row``."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise QueryRejected(f"page size {shorten(limit)} is outside 1..{MAX_LIMIT}"
                                if not isinstance(limit, int) or limit < 1
                                else f"page size {limit} over the limit {MAX_LIMIT}")
        if select is None:
            chosen = list(range(len(self.columns)))
        else:
            if isinstance(select, str):
                raise QueryRejected("select must be a list of column names")
            chosen = [self.position(name) for name in select]
        clauses, params = self.where(filters)
        d, ph = self.dialect, self.dialect.placeholder
        sort_index = self.position(order_by) if order_by is not None else None
        fields = [physical(i) for i in chosen]
        if sort_index is not None:
            sort_type = self.columns[sort_index].type
            expr = d.expr(sort_index, sort_type)
            fields.append(physical(sort_index))
            direction = "DESC NULLS FIRST" if descending else "ASC NULLS LAST"
            order = f'{expr} {direction}, "_row" {"DESC" if descending else "ASC"}'
        else:
            order = f'{self._row_order(filters)} {"DESC" if descending else "ASC"}'
        if after is not None:
            if not isinstance(after, str):
                raise QueryRejected("the cursor is not valid")
            value, row = decode_cursor(after, order_by, descending)
            if sort_index is None:
                clauses.append(f'{self._row_order(filters)} {"<" if descending else ">"} {ph}')
                params.append(row)
            else:
                clauses.append(self._keyset(expr, sort_type, value, row, descending))
                if value is not None:
                    stored = d.param(sort_type, coerce(self.columns[sort_index], value))
                    params.extend([stored, stored])
                params.append(row)
        fields.append('"_row"')
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {', '.join(fields)} FROM {table_ident}{where} ORDER BY {order} LIMIT {limit + 1}"
        return sql, params, chosen, sort_index

    def _row_order(self, filters: Sequence[Filter]) -> str:
        """The row number as the page orders by it: ``+"_row"`` (an expression, which no index
        provides) when only ranges on indexed columns narrow the rows and the planner would
        otherwise walk every row number for them."""
        if self.dialect.hide_row_order_for_ranges:
            use = index_use(filters, None, self.indexed)
            if use.served and use.range_only:
                return '+"_row"'
        return '"_row"'

    def scan_sql(self, table_ident: str, *, filters: Sequence[Filter], select: Sequence[str],
                 after_row: int, limit: int) -> tuple[str, list[Any], list[int]]:
        """SQL of one block of an export: ``select`` columns then ``_row``, in ``_row`` order,
        after ``after_row``. Blocks may be larger than a page (exports stream them)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise QueryRejected("a block holds at least one row")
        chosen = [self.position(name) for name in select]
        clauses, params = self.where(filters)
        clauses.append(f'"_row" > {self.dialect.placeholder}')
        params.append(int(after_row))
        fields = ", ".join([physical(i) for i in chosen] + ['"_row"'])
        sql = (f"SELECT {fields} FROM {table_ident} WHERE {' AND '.join(clauses)} "
               f'ORDER BY "_row" LIMIT {int(limit)}')
        return sql, params, chosen

    def skip_sql(self, table_ident: str, *, filters: Sequence[Filter], skip: int) -> tuple[str, list[Any]]:
        """SQL of the ``_row`` of the ``skip``-th matching row (1-based), in ``_row`` order."""
        clauses, params = self.where(filters)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return (f'SELECT "_row" FROM {table_ident}{where} ORDER BY "_row" LIMIT 1 OFFSET {int(skip) - 1}',
                params)

    def _keyset(self, expr: str, sort_type: ColumnType, value: str | int | None, row: int,
                descending: bool) -> str:
        ph = self.dialect.placeholder
        if value is None:
            if descending:
                return f'(({expr} IS NULL AND "_row" < {ph}) OR {expr} IS NOT NULL)'
            return f'({expr} IS NULL AND "_row" > {ph})'
        if descending:
            return f'({expr} < {ph} OR ({expr} = {ph} AND "_row" < {ph}))'
        return f'({expr} > {ph} OR ({expr} = {ph} AND "_row" > {ph}) OR {expr} IS NULL)'


def convert_rows(rows: list[DriverRow], chosen: Sequence[int],
                 out: Sequence[Converter | None]) -> list[ScannedRow]:
    """Scanned rows with their values made JSON-able by ``out`` (``_row`` stays last)."""
    converters = [(k, f) for k, i in enumerate(chosen) if (f := out[i]) is not None]
    if not converters:
        return rows
    result = []
    for raw in rows:
        values = list(raw)
        for k, convert in converters:
            if values[k] is not None:
                values[k] = convert(values[k])
        result.append(tuple(values))
    return result


def make_page(rows: list[DriverRow], query: PageQuery, chosen: list[int], sort_index: int | None,
              order_by: str | None, descending: bool, limit: int,
              out: Sequence[Converter | None]) -> Page:
    """Rows as dicts (values made JSON-able by ``out``), and the cursor after the last one."""
    names = [query.columns[i].name for i in chosen]
    converters = [(k, f) for k, i in enumerate(chosen) if (f := out[i]) is not None]
    if converters:
        result = []
        for raw in rows[:limit]:
            values = list(raw[: len(chosen)])
            for k, convert in converters:
                if values[k] is not None:
                    values[k] = convert(values[k])
            result.append(dict(zip(names, values)))
    else:
        # The common case, and the hot path: no value needs converting. zip stops at the
        # shorter side, so the trailing sort and row-number columns are left out.
        result = [dict(zip(names, raw)) for raw in rows[:limit]]
    cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        sort_value = None
        if sort_index is not None:
            sort_value = last[len(chosen)]
            to_json = out[sort_index]
            if sort_value is not None and to_json is not None:
                sort_value = to_json(sort_value)
            if isinstance(sort_value, bool):
                sort_value = "true" if sort_value else "false"
        cursor = encode_cursor(order_by, descending, sort_value, last[-1])
    return Page(rows=result, next_cursor=cursor)
