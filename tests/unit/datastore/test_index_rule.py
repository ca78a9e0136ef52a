"""When a page is served by an index, and the scan budget of the others (datastore/indexes.py)."""

from __future__ import annotations

import pytest

from marketplace.datastore import ColumnType, Filter, QueryRejected
from marketplace.datastore.indexes import (
    ScanRefused, check_scan_budget, default_filterable, index_use, indexed_names, is_area_column,
)

INDEXED = ("编号", "成立日期", "所属区县")


@pytest.mark.parametrize("filters, order_by", [
    ([], None),
    ([Filter("所属区县", "eq", "霍山县")], None),
    ([Filter("所属区县", "eq", None)], None),
    ([Filter("编号", "in", ["A", "B"])], None),
    ([Filter("成立日期", "gte", "2025-12-30")], None),
    ([Filter("行业", "eq", "制造业"), Filter("成立日期", "lt", "2000-01-01")], None),
    ([Filter("所属区县", "eq", "霍山县")], "行业"),
    ([], "成立日期"),
], ids=["nothing", "eq", "is null", "in", "range", "indexed beside unindexed", "indexed filter, any order",
        "indexed order"])
def test_an_index_serves_eq_in_and_ranges_on_indexed_columns_and_sorts_by_them(filters, order_by) -> None:
    assert index_use(filters, order_by, INDEXED).served


@pytest.mark.parametrize("filters, order_by", [
    ([Filter("行业", "eq", "制造业")], None),
    ([Filter("所属区县", "ne", "霍山县")], None),
    ([Filter("所属区县", "contains", "霍")], None),
    ([], "行业"),
    ([Filter("行业", "eq", "制造业")], "成立日期"),
], ids=["unindexed eq", "ne", "contains", "unindexed order", "indexed order, unindexed filter"])
def test_everything_else_scans(filters, order_by) -> None:
    assert not index_use(filters, order_by, INDEXED).served


def test_only_ranges_narrowing_the_rows_is_said_so_for_sqlite_s_planner() -> None:
    assert index_use([Filter("成立日期", "gte", "2025-12-30")], None, INDEXED).range_only
    assert not index_use([Filter("成立日期", "gte", "2025-12-30"), Filter("编号", "eq", "A")], None,
                         INDEXED).range_only


def test_a_scan_over_the_budget_is_refused_naming_the_indexed_columns() -> None:
    with pytest.raises(ScanRefused) as refused:
        check_scan_budget([Filter("行业", "eq", "制造业")], None, indexed=INDEXED, row_count=1_000_000,
                          budget=200_000)
    assert isinstance(refused.value, QueryRejected) and refused.value.code == "BAD_USER_INPUT"
    assert refused.value.message == (
        "this query would read the whole table (1,000,000 rows, over the scan budget of 200,000): "
        "'行业' has no index. Instead, filter with eq, in or a range on an indexed column "
        "(编号, 成立日期, 所属区县), or sort by one without a filter")
    assert refused.value.usable == INDEXED


def test_the_suggestion_leaves_out_the_columns_the_caller_may_not_filter_on() -> None:
    with pytest.raises(ScanRefused) as refused:
        check_scan_budget([], "行业", indexed=INDEXED, row_count=300, budget=100, hidden=("编号",))
    assert refused.value.usable == ("成立日期", "所属区县")
    assert "'行业' has no index to sort by" in refused.value.message and "编号" not in refused.value.message
    with pytest.raises(ScanRefused, match="none of its indexed columns is open to your licence tier"):
        check_scan_budget([], "行业", indexed=("编号",), row_count=300, budget=100, hidden=("编号",))


@pytest.mark.parametrize("row_count, budget", [(200_000, 200_000), (5, 200_000), (10**9, None), (None, 1)])
def test_tables_within_the_budget_and_unbudgeted_paths_still_scan(row_count, budget) -> None:
    check_scan_budget([Filter("行业", "eq", "制造业")], None, indexed=INDEXED, row_count=row_count,
                      budget=budget)


def test_ne_and_contains_on_indexed_columns_say_why_they_scan() -> None:
    with pytest.raises(ScanRefused, match="ne and contains cannot use an index"):
        check_scan_budget([Filter("所属区县", "ne", "霍山县")], None, indexed=INDEXED, row_count=300, budget=1)


def test_dates_and_area_columns_are_indexed_when_nothing_is_declared() -> None:
    names = ["编号", "成立日期", "更新时间", "所属区县", "行政区划代码", "区域", "行业", "金额"]
    types = [ColumnType.STRING, ColumnType.DATE, ColumnType.DATETIME, ColumnType.STRING, ColumnType.STRING,
             ColumnType.STRING, ColumnType.STRING, ColumnType.DECIMAL]
    sample = [["A", "2020-01-01", "2020-01-01T00:00:00", "霍山县", "341525", "341502", "制造业", "1.5"],
              ["B", "2021-01-01", "2021-01-01T00:00:00", "金寨县", "341524", "裕安区", "餐饮业", "2.5"]]
    assert default_filterable(names, types, sample) == {"成立日期", "更新时间", "所属区县", "行政区划代码", "区域"}


@pytest.mark.parametrize("name, sample, area", [
    ("所在区县", [], True),
    ("代码", ["341502", "341503", "x"], True),
    ("代码", ["341502", "x", "y"], False),
    ("地址", ["六安市金安区梅山路1号"], False),
    ("备注", ["", " "], False),
])
def test_an_area_column_is_told_by_its_name_or_most_of_its_sample(name, sample, area) -> None:
    assert is_area_column(name, sample) is area


def test_versions_recorded_before_the_flag_count_their_keys_as_indexed() -> None:
    assert indexed_names([{"name": "编号", "key": True}, {"name": "日期", "key": False},
                          {"name": "区县", "key": False, "filterable": True}]) == ("编号", "区县")
