"""Reading version tables: the same SQL on both stores (the dialect differs, the shape not)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from marketplace.datastore.query import Dialect, Filter, Page, PageQuery, convert_rows, make_page
from marketplace.datastore.rows import Converter, DriverRow, ScannedRow
from marketplace.datastore.schema import Column, ColumnType


class TableReads:
    """Keyset pages, export blocks and counts; a store provides ``columns``, ``_run``,
    ``_ident``, its ``_dialect`` and ``_out`` (how its driver's values become JSON values)."""

    _dialect: Dialect
    _out: Mapping[ColumnType, Converter]

    def columns(self, table: str) -> tuple[Column, ...]:
        raise NotImplementedError

    def _run(self, sql: str, params: Sequence[Any], table: str) -> list[DriverRow]:
        raise NotImplementedError

    def _ident(self, table: str) -> str:
        raise NotImplementedError

    def query(self, table: str, *, filters: Sequence[Filter] = (), order_by: str | None = None,
              descending: bool = False, after: str | None = None, limit: int = 100,
              select: Sequence[str] | None = None) -> Page:
        columns = self.columns(table)
        q = PageQuery(columns, self._dialect)
        sql, params, chosen, sort_index = q.page_sql(self._ident(table), filters=filters, order_by=order_by,
                                                     descending=bool(descending), after=after, limit=limit,
                                                     select=select)
        rows = self._run(sql, params, table)
        out = [self._out.get(c.type) for c in columns]
        return make_page(rows, q, chosen, sort_index, order_by, bool(descending), limit, out)

    def scan(self, table: str, *, filters: Sequence[Filter] = (), select: Sequence[str] | None = None,
             after_row: int = 0, limit: int = 5000) -> list[ScannedRow]:
        """One block of an export: tuples of the ``select`` columns (all when None) with the
        row number ``_row`` last, in ``_row`` order after ``after_row`` (0: from the start)."""
        columns = self.columns(table)
        q = PageQuery(columns, self._dialect)
        names = [c.name for c in columns] if select is None else select
        sql, params, chosen = q.scan_sql(self._ident(table), filters=filters, select=names,
                                         after_row=after_row, limit=limit)
        return convert_rows(self._run(sql, params, table), chosen, [self._out.get(c.type) for c in columns])

    def row_after(self, table: str, *, filters: Sequence[Filter] = (), skip: int) -> int | None:
        """The ``_row`` of the ``skip``-th row matching ``filters`` (None: fewer rows match);
        ``scan(after_row=...)`` with it continues after the first ``skip`` rows."""
        if skip <= 0:
            return 0
        q = PageQuery(self.columns(table), self._dialect)
        sql, params = q.skip_sql(self._ident(table), filters=filters, skip=skip)
        found = self._run(sql, params, table)
        return found[0][0] if found else None

    def count(self, table: str, filters: Sequence[Filter] = ()) -> int:
        q = PageQuery(self.columns(table), self._dialect)
        clauses, params = q.where(filters)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return self._run(f"SELECT COUNT(*) FROM {self._ident(table)}{where}", params, table)[0][0]

