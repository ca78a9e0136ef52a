"""The datastore contract, run on a SQLite file and on PostgreSQL (marked ``postgres``)."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator

import openpyxl
import orjson
import pytest

from marketplace.datastore import (
    Column, ColumnType, Datastore, Filter, ImportRejected, ImportSpec, PostgresDatastore, QueryRejected,
    Semantic, SQLiteDatastore,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[str, Datastore, object]]:
    if request.param == "sqlite":
        path = tmp_path / "var" / "datastore.sqlite3"
        store = SQLiteDatastore(path)
        yield "sqlite", store, path
    else:
        url = request.getfixturevalue("postgres_url")
        schema = request.getfixturevalue("postgres_schema")
        store = PostgresDatastore(url, schema=schema, pool_size=2)
        yield "postgres", store, (url, schema)
    store.close()


@pytest.fixture
def store(backend) -> Datastore:
    return backend[1]


def physical_tables(backend) -> set[str]:
    """Tables really in the database, not only what the store's metadata says."""
    kind, _, where = backend
    if kind == "sqlite":
        with sqlite3.connect(where) as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        conn.close()
        return names - {"_datastore_columns"}
    import psycopg

    url, schema = where
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                            (schema,)).fetchall()
    return {r[0] for r in rows} - {"_datastore_columns"}


def csv_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def load(store: Datastore, data: bytes, table: str = "t", fmt: str = "csv", **spec):
    return store.import_version(table, io.BytesIO(data), ImportSpec(fmt, **spec))


def rejected(store: Datastore, data: bytes, fmt: str = "csv", **spec) -> ImportRejected:
    with pytest.raises(ImportRejected) as info:
        load(store, data, fmt=fmt, **spec)
    assert not store.has_table("t")
    return info.value


REGISTRY = [
    "统一社会信用代码,企业名称,注册资本,成立日期,员工数,是否存续,更新时间",
    "91350200776049653A,甲公司,100.50,2020-01-05,12,是,2024-05-01 08:30:00",
    '91320621MA1MRHG205,"乙公司, 有限",9.5,2019-12-31,3,否,2024-05-02T09:00:00',
    "91341500MA2N001160,丙公司,,2021-06-01,,是,",
]


class TestImport:
    def test_a_utf8_csv_is_imported_with_inferred_types_and_read_back_exactly(self, store) -> None:
        result = load(store, csv_bytes(REGISTRY))
        assert result.table == "t" and result.row_count == 3 and result.encoding == "utf-8"
        assert [c.type for c in result.columns] == [
            ColumnType.STRING, ColumnType.STRING, ColumnType.DECIMAL, ColumnType.DATE, ColumnType.INTEGER,
            ColumnType.BOOLEAN, ColumnType.DATETIME]
        assert result.content_hash.startswith("sha256:") and len(result.content_hash) == 71
        assert result.bytes_read == len(csv_bytes(REGISTRY))
        assert store.columns("t") == result.columns
        rows = store.query("t").rows
        assert rows[0] == {"统一社会信用代码": "91350200776049653A", "企业名称": "甲公司", "注册资本": "100.50",
                           "成立日期": "2020-01-05", "员工数": 12, "是否存续": True,
                           "更新时间": "2024-05-01T08:30:00"}
        assert rows[1]["企业名称"] == "乙公司, 有限" and rows[1]["是否存续"] is False
        assert rows[2]["注册资本"] is None and rows[2]["员工数"] is None

    def test_a_bom_marks_utf8_sig_and_the_bom_is_not_part_of_the_first_column(self, store) -> None:
        result = load(store, b"\xef\xbb\xbf" + csv_bytes(["名称,数量", "六安,1"]))
        assert result.encoding == "utf-8-sig"
        assert [c.name for c in result.columns] == ["名称", "数量"]

    def test_gb18030_bytes_are_detected_and_decoded(self, store) -> None:
        result = load(store, csv_bytes(["城市,区县", "六安市,金寨县"], "gb18030"))
        assert result.encoding == "gb18030"
        assert store.query("t").rows == [{"城市": "六安市", "区县": "金寨县"}]

    def test_quoted_newlines_stay_inside_the_value(self, store) -> None:
        load(store, csv_bytes(['名称,地址', '甲,"六安市\n金安区"', "乙,裕安区"]))
        assert [r["地址"] for r in store.query("t").rows] == ["六安市\n金安区", "裕安区"]

    def test_a_ragged_row_is_rejected_with_its_line_and_leaves_no_table(self, backend, store) -> None:
        error = rejected(store, csv_bytes(["a,b", "1,2", '3,"x\ny"', "4,5,6", "7,8"]))
        assert (error.code, error.line) == ("RAGGED_ROW", 5)
        assert "3 fields" in error.message and physical_tables(backend) == set()

    def test_undecodable_bytes_late_in_the_file_are_rejected_with_their_line(self, backend, store) -> None:
        lines = ["名称,值"] + [f"六安{n},{n}" for n in range(5000)]
        data = csv_bytes(lines) + b"bad\xff\xfe,1\n" + csv_bytes(["ok,2"])
        assert len(data) > 70_000
        error = rejected(store, data)
        assert (error.code, error.line) == ("UNDECODABLE", 5002)
        assert physical_tables(backend) == set()

    def test_an_empty_file_and_a_header_without_rows_are_rejected_as_empty(self, store) -> None:
        assert rejected(store, b"").code == "EMPTY"
        error = rejected(store, b"a,b\n")
        assert error.code == "EMPTY" and "no rows" in error.message

    def test_an_upload_over_the_size_limit_is_rejected(self, backend, store) -> None:
        data = csv_bytes(["a,b"] + [f"{n},{n}" for n in range(100_000)])
        error = rejected(store, data, max_bytes=1 << 20)
        assert error.code == "TOO_LARGE" and "1 MB" in error.message
        assert physical_tables(backend) == set()

    def test_a_value_that_does_not_fit_an_overridden_type_is_rejected_with_line_column_and_value(
            self, store) -> None:
        error = rejected(store, csv_bytes(["编号,金额", "1,10", "2,abc"]), type_overrides={"金额": ColumnType.INTEGER})
        assert (error.code, error.line) == ("BAD_VALUE", 3)
        assert '"abc"' in error.message and '"金额"' in error.message and "integer" in error.message

    def test_a_late_value_that_does_not_fit_the_inferred_type_is_rejected(self, backend, store) -> None:
        lines = ["编号,日期"] + [f"{n},2020-01-01" for n in range(1500)] + ["1500,2020-02-30"]
        error = rejected(store, csv_bytes(lines))
        assert (error.code, error.line) == ("BAD_VALUE", 1502) and "date" in error.message
        assert physical_tables(backend) == set()

    def test_a_duplicate_key_is_rejected_with_the_line_of_the_duplicate(self, backend, store) -> None:
        lines = ["代码,名称", "A1,甲", '"A2","乙\n多行"', "A3,丙", "A2,丁"]
        error = rejected(store, csv_bytes(lines), key_columns=["代码"])
        assert (error.code, error.line) == ("DUPLICATE_KEY", 6) and '"A2"' in error.message
        assert physical_tables(backend) == set()

    def test_unique_keys_are_marked_in_the_columns(self, store) -> None:
        result = load(store, csv_bytes(["代码,名称", "A1,甲", "A2,乙"]), key_columns=["代码"])
        assert result.columns[0] == Column("代码", ColumnType.STRING, None, key=True)

    @pytest.mark.parametrize("spec", [{"type_overrides": {"缺失": ColumnType.INTEGER}},
                                      {"key_columns": ["缺失"]}, {"semantics": {"缺失": Semantic.USCC}}])
    def test_settings_for_a_column_the_file_lacks_are_rejected_naming_it(self, store, spec) -> None:
        error = rejected(store, csv_bytes(["a,b", "1,2"]), **spec)
        assert error.code == "BAD_HEADER" and "缺失" in error.message

    @pytest.mark.parametrize("header", ["a,a", "a,,b", "a, "])
    def test_blank_or_repeated_header_names_are_rejected(self, store, header) -> None:
        assert rejected(store, csv_bytes([header, "1,2,3"[: len(header.split(",")) * 2 - 1]])).code == "BAD_HEADER"

    def test_an_unknown_format_is_rejected(self, store) -> None:
        assert rejected(store, b"a,b\n1,2\n", fmt="parquet").code == "UNSUPPORTED_FORMAT"

    def test_a_table_name_outside_the_allowed_pattern_is_refused(self, store) -> None:
        for name in ["", "A", "a;drop", "x" * 61, "_datastore_columns", "sqlite_master"]:
            with pytest.raises(ValueError):
                load(store, b"a\n1\n", table=name)

    def test_an_xlsx_workbook_is_imported_from_its_first_sheet(self, store) -> None:
        import datetime as dt

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["名称", "人口", "面积", "日期"])
        sheet.append(["金安区", 100, 1.5, dt.datetime(2020, 1, 5)])
        sheet.append(["裕安区", None, 2.25, dt.datetime(2021, 3, 1)])
        buffer = io.BytesIO()
        book.save(buffer)
        result = load(store, buffer.getvalue(), fmt="xlsx")
        assert [c.type for c in result.columns] == [ColumnType.STRING, ColumnType.INTEGER, ColumnType.DECIMAL,
                                                    ColumnType.DATE]
        assert store.query("t").rows[1] == {"名称": "裕安区", "人口": None, "面积": "2.25", "日期": "2021-03-01"}

    def test_an_xlsx_value_of_the_wrong_type_names_its_sheet_row(self, store) -> None:
        book = openpyxl.Workbook()
        for row in (["编号"], [1], [2], ["三"]):
            book.active.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        error = rejected(store, buffer.getvalue(), fmt="xlsx", type_overrides={"编号": ColumnType.INTEGER})
        assert (error.code, error.line) == ("BAD_VALUE", 4)

    def test_jsonl_objects_become_rows_and_missing_keys_become_null(self, store) -> None:
        data = b'{"name": "\xe7\x94\xb2", "n": 1, "ok": true}\n\n{"name": "b", "n": 2}\n'
        result = load(store, data, fmt="jsonl")
        assert result.row_count == 2
        assert store.query("t").rows == [{"name": "甲", "n": 1, "ok": True}, {"name": "b", "n": 2, "ok": None}]

    def test_a_jsonl_object_with_an_unknown_key_is_rejected_with_its_line(self, store) -> None:
        data = b'{"a": 1}\n{"a": 2}\n{"a": 3, "b": 4}\n'
        error = rejected(store, data, fmt="jsonl")
        assert (error.code, error.line) == ("BAD_HEADER", 3) and '"b"' in error.message
        assert rejected(store, b'{"a": 1}\n[1]\n', fmt="jsonl").line == 2

    def test_the_quality_report_counts_invalid_identifiers_without_rejecting_the_import(self, store) -> None:
        lines = ["统一社会信用代码,法人身份证号,联系电话,备注",
                 "91350200776049653A,11010519491231002X,13800138000,",
                 "91320621MA1MRHG207,34052419800101001X,1380013800,x",
                 "91341500MA2N001160,340524198001010013,,y",
                 "91350203M0001QAY9B,341502199001010017,13912345678,z",
                 "91320621MA1MRHG205,,13912345678,w"]
        result = load(store, csv_bytes(lines))
        q = result.quality
        assert q["rows"] == 5
        assert q["detected_semantics"] == {"统一社会信用代码": "uscc", "法人身份证号": "citizen_id",
                                           "联系电话": "mobile"}
        assert q["columns"]["统一社会信用代码"] == {"nulls": 0, "invalid": 2, "invalid_samples": [
            {"line": 3, "problem": "CHECKSUM"}, {"line": 5, "problem": "CHECKSUM"}]}
        assert q["columns"]["法人身份证号"]["invalid_samples"] == [{"line": 4, "problem": "CHECKSUM"}]
        assert q["columns"]["法人身份证号"]["nulls"] == 1
        assert q["columns"]["联系电话"]["invalid"] == 1 and q["columns"]["备注"]["nulls"] == 1
        assert q["score"] == round(100 * (20 - 3 - 4) / 20)
        assert orjson.loads(orjson.dumps(q)) == q
        assert result.columns[1].semantic is Semantic.CITIZEN_ID

    def test_given_semantics_are_validated_and_not_reported_as_detected(self, store) -> None:
        result = load(store, csv_bytes(["代码", "91320621MA1MRHG207"]), semantics={"代码": Semantic.USCC})
        assert result.quality["detected_semantics"] == {}
        assert result.quality["columns"]["代码"]["invalid"] == 1


def people(store: Datastore, n: int = 250) -> None:
    lines = ["编号,姓名,县,资本,日期,在业"]
    counties = ["金安区", "裕安区", "霍山县", ""]
    for i in range(n):
        capital = "" if i % 11 == 0 else f"{(i * 37) % 100}.{i % 10}"
        lines.append(f"{i},人{i},{counties[i % 4]},{capital},2020-01-{i % 28 + 1:02d},{'是' if i % 3 else '否'}")
    load(store, csv_bytes(lines), key_columns=["编号"])


def walk(store: Datastore, **kwargs) -> list[dict]:
    rows: list[dict] = []
    after = None
    while True:
        page = store.query("t", after=after, limit=7, **kwargs)
        assert len(page.rows) <= 7
        rows.extend(page.rows)
        if page.next_cursor is None:
            return rows
        after = page.next_cursor


class TestQuery:
    def test_keyset_pages_walk_every_row_once_in_row_order(self, store) -> None:
        people(store)
        assert [r["编号"] for r in walk(store)] == list(range(250))
        assert [r["编号"] for r in walk(store, descending=True)] == list(range(249, -1, -1))

    @pytest.mark.parametrize("column", ["县", "资本", "日期", "在业"])
    @pytest.mark.parametrize("descending", [False, True])
    def test_keyset_pages_sorted_by_a_column_with_duplicates_and_nulls_walk_every_row_once(
            self, store, column, descending) -> None:
        people(store)
        everything = store.query("t", limit=1000).rows
        rows = walk(store, order_by=column, descending=descending)
        assert sorted(r["编号"] for r in rows) == list(range(250))

        def key(r: dict):
            value = r[column]
            if column == "资本" and value is not None:
                value = float(value)
            missing = value is None
            return (missing, value if not missing else 0, r["编号"])

        expected = sorted(everything, key=key)
        if descending:
            expected = expected[::-1]
        assert rows == expected

    def test_decimals_sort_and_compare_as_numbers_not_text(self, store) -> None:
        load(store, csv_bytes(["v", "9.5", "10", "100.25", "-3"]))
        assert [r["v"] for r in store.query("t", order_by="v").rows] == ["-3", "9.5", "10", "100.25"]
        assert store.count("t", [Filter("v", "gt", "9.75")]) == 2

    @pytest.mark.parametrize(("flt", "expected"), [
        (Filter("县", "eq", "金安区"), lambda r: r["县"] == "金安区"),
        (Filter("县", "ne", "金安区"), lambda r: r["县"] not in ("金安区", None)),
        (Filter("编号", "lt", 10), lambda r: r["编号"] < 10),
        (Filter("编号", "lte", "10"), lambda r: r["编号"] <= 10),
        (Filter("资本", "gt", 50), lambda r: r["资本"] is not None and float(r["资本"]) > 50),
        (Filter("资本", "gte", "50.5"), lambda r: r["资本"] is not None and float(r["资本"]) >= 50.5),
        (Filter("日期", "lte", "2020-01-03"), lambda r: r["日期"] <= "2020-01-03"),
        (Filter("在业", "eq", False), lambda r: r["在业"] is False),
        (Filter("在业", "eq", "是"), lambda r: r["在业"] is True),
        (Filter("编号", "in", [1, "2", 300]), lambda r: r["编号"] in (1, 2)),
        (Filter("县", "in", ["霍山县", None]), lambda r: r["县"] in ("霍山县", None)),
        (Filter("编号", "in", []), lambda r: False),
        (Filter("姓名", "contains", "人1"), lambda r: "人1" in r["姓名"]),
        (Filter("县", "eq", None), lambda r: r["县"] is None),
        (Filter("资本", "ne", None), lambda r: r["资本"] is not None),
    ])
    def test_each_filter_operator_selects_exactly_the_matching_rows(self, store, flt, expected) -> None:
        people(store)
        everything = store.query("t", limit=1000).rows
        want = [r for r in everything if expected(r)]
        assert store.query("t", filters=[flt], limit=1000).rows == want
        assert store.count("t", [flt]) == len(want)

    def test_contains_treats_percent_and_underscore_literally(self, store) -> None:
        load(store, csv_bytes(["s", "100%纯", "a_b", "axb", "abc", "%"]))
        assert [r["s"] for r in store.query("t", filters=[Filter("s", "contains", "%")]).rows] == ["100%纯", "%"]
        assert [r["s"] for r in store.query("t", filters=[Filter("s", "contains", "a_b")]).rows] == ["a_b"]

    def test_filters_combine_with_and_and_select_limits_the_columns(self, store) -> None:
        people(store)
        page = store.query("t", filters=[Filter("县", "eq", "裕安区"), Filter("编号", "lt", 20)],
                           select=["姓名"], order_by="编号", descending=True)
        assert page.rows == [{"姓名": f"人{i}"} for i in (17, 13, 9, 5, 1)]

    @pytest.mark.parametrize(("kwargs", "fragment"), [
        ({"filters": [Filter("x", "eq", 1)]}, 'unknown column "x"'),
        ({"filters": [Filter("编号", "eq", "abc")]}, 'value "abc" is not an integer for column "编号"'),
        ({"filters": [Filter("资本", "gt", "1,000")]}, 'for column "资本"'),
        ({"filters": [Filter("日期", "eq", "2020-13-01")]}, "date"),
        ({"filters": [Filter("编号", "like", 1)]}, "unknown filter operator"),
        ({"filters": [Filter("编号", "contains", "1")]}, "contains"),
        ({"filters": [Filter("编号", "in", 5)]}, "list"),
        ({"filters": [Filter("编号", "gt", None)]}, "needs a value"),
        ({"limit": 1001}, "page size 1001 over the limit 1000"),
        ({"limit": 0}, "page size 0"),
        ({"order_by": "nope"}, 'unknown column "nope"'),
        ({"select": ["姓名", "nope"]}, 'unknown column "nope"'),
        ({"after": "not-a-cursor!"}, "cursor"),
    ])
    def test_bad_queries_are_rejected_naming_the_problem(self, store, kwargs, fragment) -> None:
        people(store, 5)
        with pytest.raises(QueryRejected) as info:
            store.query("t", **kwargs)
        assert fragment in info.value.message and info.value.code == "BAD_USER_INPUT"

    def test_a_cursor_from_another_order_is_rejected(self, store) -> None:
        people(store, 20)
        cursor = store.query("t", limit=5, order_by="县").next_cursor
        with pytest.raises(QueryRejected):
            store.query("t", limit=5, order_by="姓名", after=cursor)

    def test_sql_looking_column_names_and_values_are_only_data(self, backend, store) -> None:
        name = 'x"; DROP TABLE t; --'
        load(store, csv_bytes([f'"{name.replace(chr(34), chr(34) * 2)}",b', "1,'; DROP TABLE t; --", "2,ok"]))
        assert store.columns("t")[0].name == name
        page = store.query("t", filters=[Filter("b", "eq", "'; DROP TABLE t; --")], order_by=name)
        assert page.rows == [{name: 1, "b": "'; DROP TABLE t; --"}]
        with pytest.raises(QueryRejected):
            store.query("t", filters=[Filter("b) OR 1=1 --", "eq", "x")])
        assert physical_tables(backend) == {"t"}

    def test_an_unknown_table_is_rejected(self, store) -> None:
        with pytest.raises(QueryRejected):
            store.query("nothing")
        assert not store.has_table("nothing")

    def test_drop_removes_the_table_and_is_idempotent(self, backend, store) -> None:
        people(store, 3)
        assert store.has_table("t") and store.tables() == ["t"]
        store.drop("t")
        store.drop("t")
        assert not store.has_table("t") and physical_tables(backend) == set()
        people(store, 2)  # the name can be used again
        assert store.count("t") == 2

    def test_iter_rows_streams_all_rows_in_row_order(self, store) -> None:
        people(store, 23)
        rows = list(store.iter_rows("t", batch=5))
        assert rows == store.query("t", limit=1000).rows and len(rows) == 23


class TestExportScans:
    """``scan`` and ``row_after``: the blocks of a streaming export (issue 5)."""

    def test_scans_give_every_row_once_in_row_order_with_the_values_rows_gives(self, store) -> None:
        load(store, csv_bytes(REGISTRY))
        names = ["企业名称", "注册资本", "成立日期", "是否存续"]
        expected = [[r[n] for n in names] for r in store.query("t", limit=100).rows]
        got, after = [], 0
        while block := store.scan("t", select=names, after_row=after, limit=2):
            got.extend(list(row[:-1]) for row in block)
            after = block[-1][-1]
        assert got == expected and len(got) == 3

    def test_row_after_skips_the_first_n_matching_rows(self, store) -> None:
        load(store, csv_bytes(REGISTRY))
        filters = [Filter("是否存续", "eq", True)]
        matching = [r["企业名称"] for r in store.query("t", filters=filters, limit=100).rows]
        assert matching == ["甲公司", "丙公司"]
        start = store.row_after("t", filters=filters, skip=1)
        assert [row[0] for row in store.scan("t", filters=filters, select=["企业名称"],
                                              after_row=start)] == ["丙公司"]
        assert store.row_after("t", filters=filters, skip=0) == 0
        assert store.row_after("t", filters=filters, skip=3) is None
