"""Which columns of a version get an index, and when a query is served by one.

**Indexed at import** (after the bulk load, in the import's transaction, so a version is never
seen half-indexed): the key columns (their unique index) and the *filterable* columns. When the
publisher declares filterable information items, those are the filterable columns; without a
declaration they are the ones users filter and sort by in practice: date and datetime columns,
and area columns — a name naming the administrative area (行政区划, 区划代码, 所属区县...) or a
sample whose values are mostly Lu'an's area codes (GB/T 2260, ``LUAN_AREAS``) or their names.

**A usable index** (the same rule on both backends; the stores' tests check each planner keeps it):

- no ``where`` and no ``orderBy``: the rows in row-number order (the primary key) — served;
- a ``where`` with at least one condition ``eq`` (``null`` too: ``IS NULL``), ``in`` or a range
  (``lt``/``lte``/``gt``/``gte``) on an indexed column — served: the index narrows the rows to the
  matches, whatever the other conditions and the order (sorting the matches costs what they
  are). PostgreSQL's planner picks the index from its statistics (``ANALYZE`` at import); SQLite
  has no value statistics and would rather walk the row numbers than sort, so when the only
  indexed conditions are ranges the SQLite page query hides the row-number order from its
  planner (``+"_row"``) and the range is read from its index;
- no ``where`` and ``orderBy`` an indexed column — served: the index is read in order and the
  page stops after ``first`` rows;
- anything else scans: conditions only ``ne``/``contains`` or on columns without an index (a rare
  value would be looked for through the whole table), an ``orderBy`` without an index (the whole
  table sorted), or an indexed ``orderBy`` with such conditions (the index read whole, a lookup
  per row: slower than a scan).

A scan of a table over the **scan budget** (``DATABANK_SCAN_BUDGET_ROWS``) is refused before
the table is read and before any quota is used (``check_scan_budget``): the answer names the
indexed columns the caller may filter on instead. Tables within the budget still scan.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.identifiers import LUAN_AREAS
from marketplace.datastore.errors import QueryRejected
from marketplace.datastore.schema import ColumnType

if TYPE_CHECKING:  # query.py asks this module how a page is served
    from marketplace.datastore.query import Filter

#: Conditions an index narrows; ``ne`` and ``contains`` match nearly everything or anything.
INDEX_OPS = frozenset({"eq", "in", "lt", "lte", "gt", "gte"})
RANGE_OPS = frozenset({"lt", "lte", "gt", "gte"})
AREA_NAME_FRAGMENTS = ("行政区划", "区划代码", "区划", "所属区县", "所在区县", "区县")
_AREA_VALUES = frozenset(LUAN_AREAS) | frozenset(LUAN_AREAS.values())
DEFAULT_TYPES = frozenset({ColumnType.DATE, ColumnType.DATETIME})
#: ``DATABANK_SCAN_BUDGET_ROWS``'s default (marketplace/settings.py says why this size).
DEFAULT_SCAN_BUDGET = 200_000


def is_area_column(name: str, sample: Sequence[str]) -> bool:
    """An administrative-area column, by its name or by over half of its non-empty sample."""
    if any(fragment in name for fragment in AREA_NAME_FRAGMENTS):
        return True
    present = [v.strip() for v in sample if v and v.strip()]
    return bool(present) and sum(v in _AREA_VALUES for v in present) * 2 > len(present)


def default_filterable(names: Sequence[str], types: Sequence[ColumnType],
                       sample: Sequence[Sequence[str]]) -> set[str]:
    """The columns indexed when the publisher declared none: dates and area columns."""
    return {name for i, (name, column_type) in enumerate(zip(names, types))
            if column_type in DEFAULT_TYPES or is_area_column(name, [row[i] for row in sample])}


def indexed_names(columns: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The indexed columns of a version, from its recorded columns (``Column.to_dict``).
    Versions imported before filterable columns existed record no ``filterable``: their key
    columns alone were indexed."""
    return tuple(c["name"] for c in columns if c.get("filterable", c.get("key", False)))


@dataclass(frozen=True)
class IndexUse:
    """How a query reaches its rows: ``served`` by an index (or the primary key), and whether
    the conditions an index serves are all ranges (``range_only``: SQLite needs a nudge)."""

    served: bool
    range_only: bool = False


def index_use(filters: Sequence[Filter], order_by: str | None, indexed: Collection[str]) -> IndexUse:
    """The rule of the module docstring."""
    usable = [f for f in filters if f.column in indexed and f.op in INDEX_OPS]
    if usable:
        return IndexUse(True, range_only=all(f.op in RANGE_OPS for f in usable))
    if filters:
        return IndexUse(False)
    return IndexUse(order_by is None or order_by in indexed)


class ScanRefused(QueryRejected):
    """A query that would scan a table over the scan budget (BAD_USER_INPUT).

    :ivar usable: the indexed columns the caller may filter and sort on instead
    """

    def __init__(self, message: str, usable: tuple[str, ...]) -> None:
        super().__init__(message)
        self.usable = usable


def check_scan_budget(filters: Sequence[Filter], order_by: str | None, *, indexed: Sequence[str],
                      row_count: int | None, budget: int | None, hidden: Collection[str] = ()) -> None:
    """Refuse a scan of more than ``budget`` rows; ``hidden`` are the columns the caller may not
    filter on (masked or dropped by its tier), left out of the suggestion.

    :param budget: None: no budget (every scan allowed)
    """
    if budget is None or row_count is None or row_count <= budget:
        return
    if index_use(filters, order_by, indexed).served:
        return
    usable = tuple(c for c in indexed if c not in hidden)
    what = _what_scans(filters, order_by, indexed)
    instead = (f"filter with eq, in or a range on an indexed column ({', '.join(usable)}), or sort by "
               f"one without a filter" if usable else
               "none of its indexed columns is open to your licence tier; ask the publisher to "
               "declare a column you may read filterable")
    raise ScanRefused(f"this query would read the whole table ({row_count:,} rows, over the scan "
                      f"budget of {budget:,}): {what}. Instead, {instead}", usable)


def _what_scans(filters: Sequence[Filter], order_by: str | None, indexed: Collection[str]) -> str:
    if filters:
        unindexed = sorted({f.column for f in filters if f.column not in indexed})
        if unindexed:
            return f"{', '.join(repr(c) for c in unindexed)} {'has' if len(unindexed) == 1 else 'have'} no index"
        return "ne and contains cannot use an index"
    return f"{order_by!r} has no index to sort by"
