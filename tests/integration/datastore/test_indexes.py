"""Filterable columns are indexed at import, and each planner really uses the index the rule of
marketplace/datastore/indexes.py counts on — on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import io
import random
import sqlite3
from collections.abc import Iterator

import psycopg
import pytest

from marketplace.datastore import Datastore, Filter, ImportRejected, ImportSpec, PostgresDatastore, SQLiteDatastore
from marketplace.datastore.query import PageQuery

COUNTIES = ("金安区", "裕安区", "叶集区", "霍邱县", "舒城县", "金寨县", "霍山县")
INDUSTRIES = ("制造业", "批发和零售业", "信息技术", "餐饮业")
ROWS = 20_000


def registry(rows: int = ROWS) -> bytes:
    """编号 (key), 成立日期 (a date: indexed by default), 所属区县 (an area: indexed by default),
    行业 and 注册资本 (neither)."""
    rng = random.Random(11)
    lines = ["编号,成立日期,所属区县,行业,注册资本"]
    for i in range(1, rows + 1):
        # One company founded after 2025-12-29 in 500: the selective range of the issue.
        year = 2025 if i % 500 == 0 else rng.randrange(1990, 2025)
        day = 30 if i % 500 == 0 else rng.randrange(1, 29)
        lines.append(f"E{i:07d},{year}-12-{day:02d},{COUNTIES[i % 7]},{INDUSTRIES[i % 4]},"
                     f"{rng.randrange(1, 10**6)}.{i % 100:02d}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[str, Datastore, object]]:
    if request.param == "sqlite":
        path = tmp_path / "datastore.sqlite3"
        store: Datastore = SQLiteDatastore(path)
        yield "sqlite", store, path
    else:
        url = request.getfixturevalue("postgres_url")
        schema = request.getfixturevalue("postgres_schema")
        store = PostgresDatastore(url, schema=schema, pool_size=2)
        yield "postgres", store, (url, schema)
    store.close()


def load(store: Datastore, data: bytes, table: str = "t", **spec: object):
    return store.import_version(table, io.BytesIO(data), ImportSpec("csv", key_columns=["编号"], **spec))


def indexed_physical_columns(backend, table: str = "t") -> set[str]:
    """The columns (c0, c1, ...) that lead an index in the database itself."""
    kind, _, where = backend
    if kind == "sqlite":
        with sqlite3.connect(where) as conn:
            sqls = [r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND "
                                               "tbl_name = ? AND sql IS NOT NULL", (table,))]
        conn.close()
    else:
        url, schema = where
        with psycopg.connect(url) as conn:
            sqls = [r[0] for r in conn.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND "
                                               "tablename = %s", (schema, table))]
    found = set()
    for sql in sqls:
        inside = sql[sql.index("(") + 1:]
        found.add(inside.split('"')[1] if '"' in inside else inside.split(")")[0].split(",")[0].strip())
    return found - {"_row"}


def plan(backend, query: PageQuery, table: str, **page: object) -> str:
    """The database's plan of the page query the store would run."""
    kind, store, where = backend
    ident = store._ident(table)  # type: ignore[attr-defined]
    sql, params, _, _ = query.page_sql(ident, descending=False, after=None, limit=100, select=None,
                                       **page)  # type: ignore[arg-type]
    if kind == "sqlite":
        with sqlite3.connect(where) as conn:
            text = " / ".join(r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        conn.close()
        return text
    url, _ = where
    with psycopg.connect(url) as conn:
        return " / ".join(r[0] for r in conn.execute("EXPLAIN " + sql, params))  # type: ignore[arg-type]


def uses_index(kind: str, text: str) -> bool:
    if kind == "sqlite":
        return "USING INDEX" in text or "USING COVERING INDEX" in text
    return "Index" in text and "Seq Scan" not in text


def test_without_a_declaration_keys_dates_and_area_columns_are_indexed(backend) -> None:
    result = load(backend[1], registry(200))
    assert {c.name: c.filterable for c in result.columns} == {
        "编号": True, "成立日期": True, "所属区县": True, "行业": False, "注册资本": False}
    assert indexed_physical_columns(backend) == {"c0", "c1", "c2"}
    assert {c.name: c.filterable for c in backend[1].columns("t")} == {c.name: c.filterable for c in result.columns}


def test_a_declaration_is_what_is_indexed_with_the_keys(backend) -> None:
    result = load(backend[1], registry(200), filterable_columns=["行业", "注册资本"])
    assert [c.name for c in result.columns if c.filterable] == ["编号", "行业", "注册资本"]
    assert indexed_physical_columns(backend) == {"c0", "c3", "c4"}


def test_a_declared_filterable_column_the_file_lacks_is_refused_and_nothing_is_left(backend) -> None:
    with pytest.raises(ImportRejected) as refused:
        load(backend[1], registry(10), filterable_columns=["行业", "法定代表人"])
    assert refused.value.code == "BAD_HEADER" and '"法定代表人"' in refused.value.message
    assert not backend[1].has_table("t")


def test_a_failed_import_leaves_no_index_behind(backend) -> None:
    """The indexes are built in the import's transaction: a duplicate key found after them
    takes the table and its indexes away together, and the name can be imported again."""
    data = registry(50) + "E0000001,2020-01-01,金安区,制造业,1.00\n".encode()
    with pytest.raises(ImportRejected):
        load(backend[1], data, filterable_columns=["行业"])
    assert not backend[1].has_table("t") and indexed_physical_columns(backend) == set()
    load(backend[1], registry(50), filterable_columns=["行业"])
    assert indexed_physical_columns(backend) == {"c0", "c3"}


@pytest.fixture
def big(backend) -> tuple[str, Datastore, object, PageQuery]:
    load(backend[1], registry())
    store = backend[1]
    return (*backend, PageQuery(store.columns("t"), store._dialect))  # type: ignore[attr-defined]


@pytest.mark.parametrize("filters", [
    [Filter("所属区县", "eq", "霍山县")],
    [Filter("所属区县", "in", ["霍山县", "金寨县"])],
    [Filter("成立日期", "gte", "2025-12-30")],
    [Filter("成立日期", "gte", "2025-12-30"), Filter("行业", "eq", "制造业")],
    [Filter("编号", "eq", "E0000042")],
], ids=["eq", "in", "a selective range", "range beside an unindexed eq", "key"])
def test_each_planner_reads_the_index_for_the_conditions_the_rule_counts(big, filters) -> None:
    kind, _, _, query = big
    assert uses_index(kind, plan(big[:3], query, "t", filters=filters, order_by=None))


def test_sorting_by_an_indexed_column_walks_its_index(big) -> None:
    kind, _, _, query = big
    text = plan(big[:3], query, "t", filters=[], order_by="成立日期")
    assert uses_index(kind, text) and ("TEMP B-TREE" not in text if kind == "sqlite" else "Sort" not in text
                                       or "Incremental" in text)


def test_a_selective_range_pages_through_exactly_its_rows(big) -> None:
    """The SQLite nudge (the row order hidden from its planner) changes the plan, not the rows:
    every page in row order, each row once, cursors included."""
    _, store, _, _ = big
    seen, after = [], None
    while True:
        page = store.query("t", filters=[Filter("成立日期", "gte", "2025-12-30")], limit=7, after=after)
        seen.extend(r["编号"] for r in page.rows)
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert seen == [f"E{i:07d}" for i in range(500, ROWS + 1, 500)]
    backwards = store.query("t", filters=[Filter("成立日期", "gte", "2025-12-30")], descending=True, limit=3)
    assert [r["编号"] for r in backwards.rows] == [f"E{i:07d}" for i in (ROWS, ROWS - 500, ROWS - 1000)]


def test_tables_made_before_filterable_columns_existed_still_load(backend, tmp_path) -> None:
    """An older metadata table has no filterable column: opening the store adds it, and the
    older tables read back with their keys as their only indexed columns."""
    kind, store, where = backend
    load(store, registry(5))
    store.close()
    if kind == "sqlite":
        with sqlite3.connect(where) as conn:
            conn.execute('ALTER TABLE "_datastore_columns" DROP COLUMN filterable')
        conn.close()
        reopened: Datastore = SQLiteDatastore(where)
    else:
        url, schema = where
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'ALTER TABLE "{schema}"."_datastore_columns" DROP COLUMN filterable')
        reopened = PostgresDatastore(url, schema=schema, pool_size=1)
    try:
        assert [c.name for c in reopened.columns("t") if c.filterable] == ["编号"]
        load(reopened, registry(5), table="t2")
        assert [c.name for c in reopened.columns("t2") if c.filterable] == ["编号", "成立日期", "所属区县"]
    finally:
        reopened.close()


@pytest.mark.postgres
def test_a_filterable_column_too_long_to_index_is_refused_by_name(postgres_url, postgres_schema) -> None:
    """PostgreSQL's B-tree entries hold about 2.7 kB: a long text cannot be indexed, and the
    upload says which column and what to do rather than failing with a server error."""
    rng = random.Random(3)
    long_text = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(3000))
    store = PostgresDatastore(postgres_url, schema=postgres_schema, pool_size=1)
    try:
        with pytest.raises(ImportRejected) as refused:
            load(store, f"编号,经营范围\nE1,{long_text}\n".encode(), filterable_columns=["经营范围"])
        assert refused.value.code == "TOO_LARGE" and '"经营范围"' in refused.value.message
        assert not store.has_table("t")
    finally:
        store.close()
