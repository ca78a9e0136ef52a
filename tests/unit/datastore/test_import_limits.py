"""The import limits: a file whose cost grows faster than its size is refused early, by the limit
it breaks, after reading about the limit and not the file; nothing of it stays in the datastore.

The attack files are generated as they are read (CSV, JSONL) or streamed into a zip (XLSX), so
none of them sits in memory or on disk at its full size.
"""

from __future__ import annotations

import io

import pytest

from marketplace.bootstrap import build_in_memory
from marketplace.datastore import ImportRejected, ImportSpec, SQLiteDatastore
from marketplace.datastore.importer import ImportPlan
from marketplace.datastore.limits import ImportLimits
from marketplace.datastore.sources import open_source
from marketplace.settings import Settings
from support.workbooks import HEADER, row, workbook

MiB = 1 << 20


class Generated:
    """``head``, then ``size`` bytes repeating ``fill``, then ``tail``: made as they are read."""

    def __init__(self, head: bytes, fill: bytes, size: int, tail: bytes = b"") -> None:
        self._parts = [head, tail]
        self._fill = fill
        self._left = size
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:
        n = 1 << 16 if n is None or n < 0 else n
        if self._parts[0]:
            out, self._parts[0] = self._parts[0][:n], self._parts[0][n:]
        elif self._left > 0:
            take = min(n, self._left)
            repeats = -(-take // len(self._fill))
            out = (self._fill * repeats)[:take]
            self._left -= take
        else:
            out, self._parts[1] = self._parts[1][:n], self._parts[1][n:]
        self.read_bytes += len(out)
        return out


def refusal(source, fmt: str = "csv", limits: ImportLimits | None = None) -> ImportRejected:
    data = io.BytesIO(source) if isinstance(source, bytes) else source
    with pytest.raises(ImportRejected) as info:
        plan = ImportPlan(data, ImportSpec(fmt), limits)
        for _ in plan.batches():
            pass
    return info.value


def imported(data: bytes, fmt: str = "csv", limits: ImportLimits | None = None) -> list[tuple]:
    plan = ImportPlan(io.BytesIO(data), ImportSpec(fmt), limits)
    return [r for batch in plan.batches() for r in batch]


# ---- CSV ---------------------------------------------------------------------------------------

def test_a_50_mb_field_is_refused_within_the_first_few_mib() -> None:
    source = Generated(b"name,n\n1,", b"x", 50 * MiB, b"\n")
    refused = refusal(source)
    assert (refused.code, refused.line) == ("TOO_LARGE", 2)
    assert refused.message == "a field is longer than the limit of 1,048,576 characters"
    assert source.read_bytes < 3 * MiB


def test_a_50_mb_quoted_field_is_refused_as_early() -> None:
    source = Generated(b"name,n\n1,\"", b"ab", 50 * MiB, b"\"\n")
    refused = refusal(source)
    assert (refused.code, refused.line, source.read_bytes < 3 * MiB) == ("TOO_LARGE", 2, True)


def test_a_quoted_field_of_many_short_lines_is_refused_by_the_field_limit() -> None:
    source = Generated(b"name,n\n1,\"", b"short line\n", 50 * MiB, b"\"\n")
    refused = refusal(source)
    assert (refused.code, refused.line) == ("TOO_LARGE", 2)
    assert refused.message == "a field is longer than the limit of 1,048,576 characters"
    assert source.read_bytes < 2 * MiB


def test_a_38_mb_header_line_is_refused_after_its_limit() -> None:
    source = Generated(b"", b"column,", 38 * MiB, b"\n1\n")
    refused = refusal(source)
    assert (refused.code, refused.line) == ("TOO_LARGE", 1)
    assert refused.message == "the header line is longer than the limit of 65,536 characters"
    assert source.read_bytes < 256 * 1024


def test_a_line_of_many_small_fields_is_refused_by_the_line_limit() -> None:
    source = Generated(b"a\n1\n", b"1,", 50 * MiB, b"\n")
    refused = refusal(source, limits=ImportLimits(max_line_chars=MiB))
    assert (refused.code, refused.line) == ("TOO_LARGE", 3)
    assert refused.message == "the line is longer than the limit of 1,048,576 characters"
    assert source.read_bytes < 2 * MiB


def test_fields_and_headers_up_to_their_limits_are_imported() -> None:
    limits = ImportLimits(max_field_chars=1000, max_header_chars=20)
    quoted = '"' + 'a""' * 500 + '"'  # 1,000 characters once the doubled quotes are read
    data = f"{'h' * 9},{'k' * 9}\n{'x' * 1000},{quoted}\n".encode()
    assert imported(data, limits=limits) == [(1, "x" * 1000, 'a"' * 500)]
    assert refusal(f"h,k\n{'x' * 1001},1\n".encode(), limits=limits).line == 2
    assert refusal(f"{'h' * 10},{'k' * 10}\n1,2\n".encode(), limits=limits).line == 1


def test_a_long_field_in_a_later_row_names_its_line() -> None:
    limits = ImportLimits(max_field_chars=100)
    refused = refusal(("a,b\n" + "1,2\n" * 5 + f'3,"{"y" * 50}\n{"y" * 60}"\n').encode(), limits=limits)
    assert (refused.code, refused.line) == ("TOO_LARGE", 7)


# ---- rows ----------------------------------------------------------------------------------------

def test_rows_past_the_limit_are_refused_naming_it() -> None:
    limits = ImportLimits(max_rows=5)
    assert len(imported(b"a\n" + b"1\n" * 5, limits=limits)) == 5
    refused = refusal(b"a\n" + b"1\n" * 6, limits=limits)
    assert (refused.code, refused.line) == ("TOO_LARGE", 7)
    assert refused.message == "the upload has more rows than the limit of 5"


def test_the_row_limit_comes_from_the_settings() -> None:
    assert Settings.from_env({"DATABANK_MAX_IMPORT_ROWS": "3"}).max_import_rows == 3
    bank = build_in_memory(Settings(max_import_rows=3))
    try:
        with pytest.raises(ImportRejected) as info:
            bank.datastore.import_version("v_limit", io.BytesIO(b"a\n1\n2\n3\n4\n"), ImportSpec("csv"))
        assert info.value.code == "TOO_LARGE"
    finally:
        bank.close()


def test_nothing_of_a_refused_upload_stays_even_after_batches_were_written() -> None:
    store = SQLiteDatastore(":memory:", import_limits=ImportLimits(max_rows=25_000))
    try:
        too_many = b"a\n" + b"".join(b"%d\n" % i for i in range(25_001))
        with pytest.raises(ImportRejected):  # refused after two batches of 10,000 went in
            store.import_version("v_refused", io.BytesIO(too_many), ImportSpec("csv"))
        assert not store.has_table("v_refused") and store.tables() == []
        # the same table name is free again, and no column records of the refused one were left
        result = store.import_version("v_refused", io.BytesIO(b"a\n1\n"), ImportSpec("csv"))
        assert result.row_count == 1 and [c.name for c in store.columns("v_refused")] == ["a"]
    finally:
        store.close()


# ---- XLSX ----------------------------------------------------------------------------------------

def sheet_row_widths(data: bytes) -> list[int]:
    """How wide the reader makes each data row of the sheet (before the importer sees it)."""
    _, source = open_source(io.BytesIO(data), "xlsx", None)
    try:
        return [len(values) for values in source._cells]
    finally:
        source.close()


def test_a_declared_dimension_of_a_million_rows_by_16384_columns_is_not_trusted() -> None:
    data = workbook([HEADER, row(2, "x", 1)], dimension="A1:XFD1000000")
    widths = sheet_row_widths(data)
    assert widths == [2 + 16]  # one row as wide as the header (and the ragged look-ahead)
    assert imported(data, "xlsx") == [(1, "x", 1)]


def test_a_200_mb_shared_string_that_compresses_well_is_refused_before_parsing() -> None:
    cell = b'<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2"><v>1</v></c></row>'
    data = workbook([HEADER, cell], shared_strings=[b"<si><t>", *[b"x" * MiB] * 200, b"</t></si>"])
    assert len(data) < 1 * MiB
    refused = refusal(data, "xlsx")
    assert refused.code == "TOO_LARGE"
    assert refused.message.startswith("the workbook expands to ")
    assert refused.message.endswith("times its size, more than the limit of 100 times")


def test_a_workbook_expanding_past_the_size_limit_is_refused() -> None:
    rows = [HEADER, *(row(n, f"name {n}", n) for n in range(2, 3000))]
    refused = refusal(workbook(rows), "xlsx", ImportLimits(max_xlsx_expanded_bytes=100_000))
    assert refused.code == "TOO_LARGE"
    assert refused.message.startswith("the workbook expands to ") and "more than the limit of 97.6562 KB" \
        in refused.message


def test_a_cell_longer_than_the_field_limit_is_refused_with_its_row() -> None:
    text = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(1001))  # compresses poorly
    data = workbook([HEADER, row(2, "x", 1), row(3, text, 2)])
    refused = refusal(data, "xlsx", ImportLimits(max_field_chars=1000))
    assert (refused.code, refused.line) == ("TOO_LARGE", 3)
    assert refused.message == "a cell is longer than the limit of 1,000 characters"


def test_a_row_numbered_beyond_the_sheet_is_refused() -> None:
    far = b'<row r="5000000"><c r="A5000000"><v>1</v></c></row>'
    refused = refusal(workbook([HEADER, row(2, "x", 1), far]), "xlsx")
    assert (refused.code, refused.line) == ("TOO_LARGE", 1_048_577)


def test_a_long_header_of_a_workbook_is_refused() -> None:
    refused = refusal(workbook([row(1, "n" * 30, "m" * 30), row(2, "x", 1)]), "xlsx",
                      ImportLimits(max_header_chars=50))
    assert (refused.code, refused.line) == ("TOO_LARGE", 1)


def test_a_cell_far_right_of_the_header_does_not_widen_every_row() -> None:
    far = [f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="B{n}"><v>1</v></c><c r="XFD{n}"/></row>'.encode()
           for n in range(2, 2002)]
    widths = set(sheet_row_widths(workbook([HEADER, *far])))
    assert widths == {2 + 16}  # the header's 2 columns and 16 more to find ragged rows, not 16,384


# ---- JSONL ---------------------------------------------------------------------------------------

def test_a_50_mb_jsonl_line_is_refused_by_the_line_limit() -> None:
    source = Generated(b'{"a": 1}\n{"a": "', b"x", 50 * MiB, b'"}\n')
    refused = refusal(source, "jsonl")
    assert (refused.code, refused.line) == ("TOO_LARGE", 2)
    assert source.read_bytes < 9 * MiB


def test_a_jsonl_value_longer_than_the_field_limit_is_refused() -> None:
    refused = refusal(b'{"a": 1}\n{"a": "' + b"x" * 101 + b'"}\n', "jsonl", ImportLimits(max_field_chars=100))
    assert (refused.code, refused.line) == ("TOO_LARGE", 2)
    assert refused.message == "a value is longer than the limit of 100 characters"
